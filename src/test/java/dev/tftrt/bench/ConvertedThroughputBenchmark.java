package dev.tftrt.bench;

import dev.tftrt.runtime.backend.Backend;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.Feeds;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * Throughput of a converted model against its original TensorFlow graph on this machine's CPU:
 * DeepLab (batch 1, 513x513) by default, converted with the given backend (onnxruntime unless
 * said), both fed the same image as TF Java tensors (no host copies on either side). Runs are
 * interleaved so machine noise hits both alike; prints medians and images per second.
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*" dev.tftrt.bench.ConvertedThroughputBenchmark \
 *     [model.pb] [input=1,513,513,3] [runs=20] [backend=onnxruntime]
 * </pre>
 */
public final class ConvertedThroughputBenchmark {
  public static void main(String[] args) throws Exception {
    Path model = Path.of(args.length > 0 ? args[0] : "../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb");
    String[] shapeArg = (args.length > 1 ? args[1] : "ImageTensor=1,513,513,3").split("=");
    long[] shape = Arrays.stream(shapeArg[1].split(",")).mapToLong(Long::parseLong).toArray();
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    String backend = args.length > 3 ? args[3] : "onnxruntime";
    Map<String, long[]> shapes = Map.of(shapeArg[0], shape);

    Path out = Files.createTempDirectory("tftrt-bench-").resolve("converted");
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), out).shapes(shapes).backend(Backend.parse(backend)).build());
    System.out.printf("converted %s: %d engine(s), backends %s, verified %s%n", model, r.engines().size(),
        r.backends().values(), r.verification().passed());

    try (TfModel original = TfModel.load(LoadOptions.of(model)); TftrtModel converted = TftrtModel.load(out)) {
      Map<String, HostTensor> feeds = Feeds.random(original.inputs(), shapes, 1);
      List<Double> tf = new ArrayList<>();
      List<Double> conv = new ArrayList<>();
      try (Tensor in = feeds.values().iterator().next().toTensor()) {
        TensorSpec spec = original.inputs().get(0);
        for (int i = 0; i < runs + 3; i++) {
          double a = timeOriginal(original.session(), spec.tensor(), in, original.outputs());
          double b = timeConverted(converted, spec.key(), in);
          if (i >= 3) { // the first runs warm up both
            tf.add(a);
            conv.add(b);
          }
        }
      }
      double mt = median(tf);
      double mc = median(conv);
      System.out.printf("original TensorFlow: median %.1f ms/image (%.2f images/s)%n", mt, 1000 / mt);
      System.out.printf("converted (%s):     median %.1f ms/image (%.2f images/s)%n", backend, mc, 1000 / mc);
      System.out.printf("converted/original throughput: %.2fx over %d interleaved runs each%n", mt / mc, runs);
    }
  }

  private static double timeOriginal(Session s, String input, Tensor in, List<TensorSpec> outputs) {
    long t0 = System.nanoTime();
    Session.Runner run = s.runner().feed(input, in);
    for (TensorSpec o : outputs) run.fetch(o.tensor());
    run.run().close();
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double timeConverted(TftrtModel m, String key, Tensor in) {
    long t0 = System.nanoTime();
    m.call(Map.of(key, in)).close();
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(Double::compare);
    return s.get(s.size() / 2);
  }

  private ConvertedThroughputBenchmark() {}
}
