package dev.tftrt.bench;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.Plan;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.tensorflow.proto.DataType;

/**
 * Calibration of the shared DeepLab at 1x513x513x3 on N samples (default 500): random crops and
 * flips of the shared photos, made one at a time as calibration asks for them. Prints the time
 * and the peak heap used (sampled every 20 ms), the process CPU time (on a shared machine wall
 * time is inflated by others' load, CPU time is not) and the load average. Run with -Xmx2g. Usage: CalibrationBenchmark [N].
 */
public final class CalibrationBenchmark {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    Path model = Path.of("../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb");
    ModelProto fp32;
    try (TfModel m = TfModel.load(LoadOptions.of(model))) {
      Plan p = Plan.make(m, Map.of("ImageTensor", new long[] {1, 513, 513, 3}), Segmenter.Options.defaults());
      fp32 = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(p.optimized().graph(), List.of("ImageTensor:0"), List.of("SemanticPredictions:0"));
    }
    List<BufferedImage> photos = new ArrayList<>();
    for (File f : new File("../shared/datasets/photos").listFiles()) {
      if (f.getName().matches(".*\\.(png|jpg)")) photos.add(ImageIO.read(f));
    }
    long[] making = {0}; // time spent making the crops (on the calibrating thread, so inside the total)
    Iterable<Map<String, HostTensor>> samples = () -> new Iterator<>() {
      final Random r = new Random(1);
      int i;

      public boolean hasNext() {
        return i < n;
      }

      public Map<String, HostTensor> next() {
        i++;
        long t = System.nanoTime();
        HostTensor x = crop(photos.get(r.nextInt(photos.size())), r);
        making[0] += System.nanoTime() - t;
        return Map.of("ImageTensor", x);
      }
    };
    long[] peak = {0};
    Thread sampler = new Thread(() -> {
      var mem = ManagementFactory.getMemoryMXBean();
      while (!Thread.currentThread().isInterrupted()) {
        peak[0] = Math.max(peak[0], mem.getHeapMemoryUsage().getUsed());
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.setDaemon(true);
    sampler.start();
    Int8Options o = new Int8Options(Calibrator.PERCENTILE, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 1);
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double load0 = os.getSystemLoadAverage();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    TensorRanges ranges = Int8Rewrite.calibrate(fp32, CalibrationData.of(samples), o);
    double s = (System.nanoTime() - t0) / 1e9;
    double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
    sampler.interrupt();
    System.out.printf("DeepLab 1x513x513x3: calibrated %d tensors on %d samples in %.1f s (%.0f ms per sample), peak heap %d MB"
        + " (max %d MB)%n", ranges.amax().size(), ranges.samples(), s, 1000 * s / ranges.samples(), peak[0] >> 20,
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf("  process CPU %.1f s (%.0f ms per sample, %.2f cores busy on average; %d available), of which"
        + " making the crops %.1f s wall; load average %.1f before, %.1f after%n", cpu, 1000 * cpu / ranges.samples(),
        cpu / s, Runtime.getRuntime().availableProcessors(), making[0] / 1e9, load0, os.getSystemLoadAverage());
  }

  static HostTensor crop(BufferedImage img, Random r) {
    int w = img.getWidth();
    int h = img.getHeight();
    int side = Math.max(32, (int) (Math.min(w, h) * (0.5 + 0.5 * r.nextDouble())));
    int x = r.nextInt(w - side + 1);
    int y = r.nextInt(h - side + 1);
    boolean flip = r.nextBoolean();
    BufferedImage out = new BufferedImage(513, 513, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    if (flip) g.drawImage(img, 513, 0, 0, 513, x, y, x + side, y + side, null);
    else g.drawImage(img, 0, 0, 513, 513, x, y, x + side, y + side, null);
    g.dispose();
    byte[] px = new byte[513 * 513 * 3];
    for (int yy = 0; yy < 513; yy++) {
      for (int xx = 0; xx < 513; xx++) {
        int rgb = out.getRGB(xx, yy);
        int at = (yy * 513 + xx) * 3;
        px[at] = (byte) (rgb >> 16);
        px[at + 1] = (byte) (rgb >> 8);
        px[at + 2] = (byte) rgb;
      }
    }
    return HostTensor.of(DataType.DT_UINT8, new long[] {1, 513, 513, 3}, ByteBuffer.wrap(px));
  }
}
