package dev.tftrt.bench;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.Plan;
import dev.tftrt.precision.calibrate.Calibration;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.Preprocess;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Layout;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.FashionMnist;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.GraphDef;

/**
 * INT8 against FP32 on ONNX Runtime's CPU provider, in both Q/DQ layouts (TensorRT's, and the
 * CPU-oriented one ONNX Runtime fuses into integer kernels): the Fashion-MNIST classifier at
 * batch 100 (calibrated on 500 training images, entropy; top-1 agreement on the 10k test split)
 * and the shared DeepLab at 1x257x257x3 (percentile, calibrated on five photos; per-pixel
 * agreement on the others). Prints the median time per run of each and the throughput ratios,
 * the load average, and which ops ONNX Runtime ran. Usage: Int8ThroughputBenchmark [runs].
 */
public final class Int8ThroughputBenchmark {
  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    System.out.printf("load average %.1f, %d cores%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        Runtime.getRuntime().availableProcessors());
    classifier(runs);
    deeplab(Math.max(5, runs / 5));
  }

  static void classifier(int runs) throws Exception {
    GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(FashionMnist.model()));
    ModelProto fp32 = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of("image:0"), List.of("logits:0"));
    FashionMnist.Split train = FashionMnist.train();
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 5; b++) samples.add(Map.of("image", train.batch(b * 100, 100)));
    Int8Options o = new Int8Options(Calibrator.ENTROPY, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 100);
    FashionMnist.Split test = FashionMnist.test();
    HostTensor batch = test.batch(0, 100);
    int[] ref = FashionMnist.top1(fp32, test);
    List<ModelProto> models = new ArrayList<>(List.of(fp32));
    List<String> notes = new ArrayList<>();
    for (Int8Layout layout : Int8Layout.values()) {
      long t0 = System.nanoTime();
      TensorRanges r = Int8Rewrite.calibrate(fp32, CalibrationData.of(samples), o, layout);
      ModelProto int8 = Int8Rewrite.apply(fp32, r, o, layout);
      double cal = (System.nanoTime() - t0) / 1e9;
      int[] got = FashionMnist.top1(int8, test);
      int same = 0;
      for (int i = 0; i < ref.length; i++) if (ref[i] == got[i]) same++;
      models.add(int8);
      notes.add(String.format("top-1 agreement %.2f%% on %d test images; calibration + rewrite %.1f s; %s",
          100.0 * same / ref.length, ref.length, cal, ops(int8)));
    }
    report("Fashion-MNIST classifier, batch of 100", time(models, "image:0", batch, runs), runs, notes);
  }

  /** Prints FP32's time and each layout's against it. */
  static void report(String what, double[][] t, int runs, List<String> notes) {
    System.out.printf("%s: FP32 %.2f ms wall, %.2f ms CPU (median wall, mean CPU of %d runs, round robin)%n", what, t[0][0], t[0][1], runs);
    for (int k = 1; k < t.length; k++) {
      System.out.printf("  INT8 %s layout: %.2f ms wall, %.2f ms CPU; throughput %.2fx FP32 by wall, %.2fx by CPU; %s%n",
          Int8Layout.values()[k - 1].label(), t[k][0], t[k][1], t[0][0] / t[k][0], t[0][1] / t[k][1], notes.get(k - 1));
    }
  }

  static void deeplab(int runs) throws Exception {
    Path model = Path.of("../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb");
    ModelProto fp32;
    try (TfModel m = TfModel.load(LoadOptions.of(model))) {
      Plan p = Plan.make(m, Map.of("ImageTensor", new long[] {1, 257, 257, 3}), Segmenter.Options.defaults());
      fp32 = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(p.optimized().graph(),
          List.of("ImageTensor:0"), List.of("SemanticPredictions:0"));
    }
    Path photos = Path.of("../shared/datasets/photos");
    Path calib = Files.createTempDirectory("tftrt-bench-calib");
    List<String> cal = List.of("chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "camera.png");
    for (String f : cal) Files.createSymbolicLink(calib.resolve(f), photos.resolve(f).toAbsolutePath());
    List<HostTensor> eval = new ArrayList<>();
    for (File f : photos.toFile().listFiles()) {
      if (f.getName().matches(".*\\.(png|jpg)") && !cal.contains(f.getName())) {
        eval.add(CalibrationData.open(f.toPath(), Preprocess.NONE).samples(Calibration.inputs(fp32)).next().get("ImageTensor:0"));
      }
    }
    Int8Options o = new Int8Options(Calibrator.PERCENTILE, Calibrator.DEFAULT_PERCENTILE, calib, null, Preprocess.NONE,
        Int8Options.Rest.FP32, 1);
    List<ModelProto> models = new ArrayList<>(List.of(fp32));
    List<String> notes = new ArrayList<>();
    for (Int8Layout layout : Int8Layout.values()) {
      TensorRanges r = Int8Rewrite.calibrate(fp32, CalibrationData.open(calib, Preprocess.NONE), o, layout);
      ModelProto int8 = Int8Rewrite.apply(fp32, r, o, layout);
      long same = 0;
      long all = 0;
      try (OnnxRunner ra = new OnnxRunner(fp32.toByteArray(), "fp32"); OnnxRunner rq = new OnnxRunner(int8.toByteArray(), "int8")) {
        for (HostTensor x : eval) {
          HostTensor pa = ra.run(Map.of("ImageTensor:0", x)).get("SemanticPredictions:0");
          HostTensor pq = rq.run(Map.of("ImageTensor:0", x)).get("SemanticPredictions:0");
          for (long i = 0; i < pa.numElements(); i++) if (pa.getDouble(i) == pq.getDouble(i)) same++;
          all += pa.numElements();
        }
      }
      models.add(int8);
      notes.add(String.format("per-pixel agreement %.2f%% on %d photos not calibrated on; %s", 100.0 * same / all,
          eval.size(), ops(int8)));
    }
    report("DeepLab 1x257x257x3", time(models, "ImageTensor:0", eval.get(0), runs), runs, notes);
  }


  static String ops(ModelProto m) {
    Map<String, Integer> c = new TreeMap<>();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().endsWith("QuantizeLinear") || n.getOpType().equals("Conv") || n.getOpType().equals("MatMul")
          || n.getOpType().equals("Gemm")) {
        c.merge(n.getOpType(), 1, Integer::sum);
      }
    }
    return c.toString();
  }

  /**
   * Median wall and mean process-CPU milliseconds per run of each model (the process CPU clock
   * ticks in 10 ms, so only its mean over the runs means anything), measured round robin (one
   * run of each in turn), so a change in the machine's load falls on all of them alike.
   */
  static double[][] time(List<ModelProto> models, String input, HostTensor batch, int runs) {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    List<OnnxRunner> rs = new ArrayList<>();
    try {
      for (ModelProto m : models) rs.add(new OnnxRunner(m.toByteArray(), "model"));
      for (OnnxRunner r : rs) for (int i = 0; i < 3; i++) r.run(Map.of(input, batch));
      double[][] wall = new double[rs.size()][runs];
      double[][] cpu = new double[rs.size()][runs];
      for (int i = 0; i < runs; i++) {
        for (int k = 0; k < rs.size(); k++) {
          long c = os.getProcessCpuTime();
          long s = System.nanoTime();
          rs.get(k).run(Map.of(input, batch));
          wall[k][i] = (System.nanoTime() - s) / 1e6;
          cpu[k][i] = (os.getProcessCpuTime() - c) / 1e6;
        }
      }
      double[][] r = new double[rs.size()][];
      for (int k = 0; k < rs.size(); k++) {
        Arrays.sort(wall[k]);
        Arrays.sort(cpu[k]);
        r[k] = new double[] {wall[k][runs / 2], Arrays.stream(cpu[k]).sum() / runs};
      }
      return r;
    } finally {
      for (OnnxRunner r : rs) r.close();
    }
  }
}
