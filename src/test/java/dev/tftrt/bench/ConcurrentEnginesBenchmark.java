package dev.tftrt.bench;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.ort.OrtOptions;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Wav;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * Issue 9: a converted model with several engines, called from several threads at once, against
 * its original TensorFlow graph called the same way. Each engine used to start its own ONNX
 * Runtime pool on top of TensorFlow's; the figure to keep is converted calls/s >= original
 * calls/s. The LSTM_S keyword spotter has 4 engines when segmented for TensorRT (3 inside its
 * while loop) and none on the CPU backends (each too small to pay for its call there); DeepLab
 * at a dynamic input size has 3.
 *
 * <p>Each round runs every variant in turn, starting one later each round (A B C D, B C D A, ...),
 * so machine noise hits all alike: the original graph, the converted model, (on ONNX Runtime
 * with the kernel's native runner) the same converted folder loaded once more with its engine
 * calls through Java, and the original loaded once more as a control, whose ratio to the
 * original is the noise of the measurement itself. Short rounds, many of them, average a shared machine's noise
 * best. Prints each round, then for each converted variant its calls per second against the
 * original's over all rounds, the median and quartiles of the rounds' ratios, and the ratio of
 * calls per second of the process's CPU time. The ONNX Runtime setting
 * is fixed per process (its global pool is a process singleton), so compare settings by running
 * the program once for each:
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*" dev.tftrt.bench.ConcurrentEnginesBenchmark \
 *     [ort=shared:1] [threads=4] [seconds=5] [rounds=3] [model=../shared/models/kws/LSTM_S.pb] [converted=DIR]
 *     [segmenting=default|in-loops|outside-loops|none] [shape=D1,D2,...]
 * </pre>
 *
 * {@code ort}: {@code shared:N} (every engine on one global pool of N intra-op threads, 0 =
 * ONNX Runtime's default) or {@code session:N} (each engine session its own pool of N, what
 * tftrt did before); {@code :java} after either keeps engine calls on the Java path instead of
 * the kernel's native runner ({@code shared:1:java}). {@code converted}: a folder to convert into once and reuse. {@code
 * segmenting}: {@code default} is what {@code convert} does (on a CPU backend no engine inside
 * the while loop whose work cannot pay for a call); {@code in-loops} forms the loop's engines
 * anyway (as for TensorRT, and as tftrt did before); {@code outside-loops} none inside a loop; {@code none} no engine at all (the cost of the
 * converted graph and of loading it, without any engine call). {@code shape}: the shape of the
 * model's one input where it is not fixed (DeepLab: {@code 1,257,257,3}); the KWS graphs get a
 * WAV clip.
 */
public final class ConcurrentEnginesBenchmark {
  public static void main(String[] args) throws Exception {
    String ort = arg(args, 0, "shared:" + OrtOptions.DEFAULT_INTRA_OP_THREADS);
    int threads = Integer.parseInt(arg(args, 1, "4"));
    double seconds = Double.parseDouble(arg(args, 2, "5"));
    int rounds = Integer.parseInt(arg(args, 3, "3"));
    Path model = Path.of(arg(args, 4, "../shared/models/kws/LSTM_S.pb"));
    Path converted = args.length > 5 ? Path.of(args[5]) : Files.createTempDirectory("tftrt-bench-").resolve("converted");

    String segmenting = arg(args, 6, "default");
    Map<String, HostTensor> feeds = feeds(model, args.length > 7 ? args[7] : null);
    if (!Files.exists(converted)) {
      ConvertJob.Builder b = ConvertJob.builder(LoadOptions.of(model), converted).given(feeds);
      if (segmenting.equals("outside-loops")) b.segments(outsideLoops(model));
      if (segmenting.equals("in-loops")) b.segments(allSegments());
      if (segmenting.equals("none")) b.segments(noEngines());
      ConvertJob.Report r = ConvertJob.run(b.build());
      System.out.printf("converted %s: %d engine(s), verified %s%n", model, r.engines().size(), r.verification().passed());
    }
    String[] o = ort.split(":");
    TftrtModel.Options load = TftrtModel.Options.defaults();
    boolean alsoJavaPath = false;
    if (o[0].equals("tensorflow")) {
      load = load.withBackend(dev.tftrt.runtime.backend.Backend.TENSORFLOW);
    } else {
      boolean nativeCalls = o.length < 3 || !o[2].equals("java");
      load = load.withOrt(OrtOptions.defaults().withSharedPool(o[0].equals("shared")).withIntraOpThreads(Integer.parseInt(o[1]))
          .withNativeCalls(nativeCalls));
      alsoJavaPath = nativeCalls; // the same folder once more, its engine calls through Java
    }
    System.out.printf("%d threads, %.1f s per variant per round, ONNX Runtime %s, %d cores, load average %s%n", threads,
        seconds, ort, Runtime.getRuntime().availableProcessors(), loadAverage());

    try (TfModel original = TfModel.load(LoadOptions.of(model));
        TftrtModel conv = TftrtModel.load(converted, load);
        TftrtModel viaJava = alsoJavaPath ? TftrtModel.load(converted, load.withOrt(load.ort().withNativeCalls(false))) : null;
        TfModel control = TfModel.load(LoadOptions.of(model));
        Tensor in = feeds.values().iterator().next().toTensor()) {
      System.out.println("engines: " + conv.backends());
      TensorSpec input = original.inputs().get(0);
      List<String> names = new ArrayList<>(List.of("original", "converted"));
      List<Call> calls = new ArrayList<>();
      calls.add(() -> {
        Session.Runner run = original.session().runner().feed(input.tensor(), in);
        for (TensorSpec out : original.outputs()) run.fetch(out.tensor());
        run.run().close();
      });
      calls.add(() -> conv.call(Map.of(conv.inputs().get(0).key(), in)).close());
      if (viaJava != null) {
        names.add("converted, engine calls through Java");
        calls.add(() -> viaJava.call(Map.of(viaJava.inputs().get(0).key(), in)).close());
      }
      // The control: the original once more. Its ratio to the original is the benchmark's own noise.
      names.add("original again (control)");
      calls.add(() -> {
        Session.Runner run = control.session().runner().feed(input.tensor(), in);
        for (TensorSpec out : control.outputs()) run.fetch(out.tensor());
        run.run().close();
      });
      for (Call c : calls) for (int i = 0; i < 50; i++) c.run(); // warm up every variant
      int v = calls.size();
      double[][] rate = new double[v][rounds];
      double[][] perCpu = new double[v][rounds];
      for (int r = 0; r < rounds; r++) {
        // Each round starts one variant later (A B C D, B C D A, ...): over v rounds every variant
        // runs in every position, and follows every other, so neither a drifting load nor the
        // cost of switching variants favours one (A B C, C B A always put B between two others).
        StringBuilder line = new StringBuilder("  round " + (r + 1) + ":");
        for (int j = 0; j < v; j++) {
          int k = (j + r) % v;
          double[] x = callsPerSecond(calls.get(k), threads, seconds);
          rate[k][r] = x[0];
          perCpu[k][r] = x[1];
        }
        for (int k = 0; k < v; k++) line.append(String.format(" %s %.1f calls/s;", names.get(k), rate[k][r]));
        System.out.println(line);
      }
      for (int k = 1; k < v; k++) {
        double[] ratio = new double[rounds];
        double[] cpuRatio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratio[r] = rate[k][r] / rate[0][r];
          cpuRatio[r] = perCpu[k][r] / perCpu[0][r];
        }
        java.util.Arrays.sort(ratio);
        java.util.Arrays.sort(cpuRatio);
        System.out.printf("%s against the original: %.3fx calls/s over all rounds (%.1f vs %.1f); rounds' ratios median %.3fx,"
            + " quartiles %.3f-%.3f; calls per CPU second of the process median %.3fx%n", names.get(k),
            sum(rate[k]) / sum(rate[0]), sum(rate[k]) / rounds, sum(rate[0]) / rounds, ratio[rounds / 2], ratio[rounds / 4],
            ratio[(3 * rounds) / 4], cpuRatio[rounds / 2]);
      }
      System.out.println("load average " + loadAverage());
    }
  }

  /**
   * The one input the benchmark feeds: a WAV clip for the KWS graphs' {@code wav_data}, else
   * seeded random values of the model's first input at {@code shape} ("1,257,257,3"; null: its
   * declared shape).
   */
  private static Map<String, HostTensor> feeds(Path model, String shape) {
    try (TfModel m = TfModel.load(LoadOptions.of(model))) {
      TensorSpec in = m.inputs().get(0);
      if (m.inputs().size() != 1) throw new IllegalArgumentException(model + " has " + m.inputs().size() + " inputs; the benchmark feeds one.");
      if (in.dtype() == org.tensorflow.proto.DataType.DT_STRING) {
        return Map.of(in.key(), HostTensor.ofStrings(new long[0], new byte[][] {Wav.randomClip(16000, 1, 16000, 3)}));
      }
      Map<String, long[]> shapes = shape == null ? Map.of()
          : Map.of(in.key(), java.util.Arrays.stream(shape.split(",")).mapToLong(Long::parseLong).toArray());
      return dev.tftrt.runtime.Feeds.random(m.inputs(), shapes, 3);
    }
  }

  private static double sum(double[] xs) {
    double t = 0;
    for (double x : xs) t += x;
    return t;
  }

  /**
   * Segments with no node inside a TF1 while loop (names under ".../while/"): an engine there runs
   * once per iteration, and on the CPU each engine call costs more than the few ops it replaces.
   */
  static dev.tftrt.segment.Segmenter.Options outsideLoops(Path model) {
    java.util.Set<String> inLoops = new java.util.HashSet<>();
    try (TfModel m = TfModel.load(LoadOptions.of(model))) {
      for (org.tensorflow.proto.NodeDef n : m.graphDef().getNodeList()) {
        if (n.getName().contains("/while/")) inLoops.add(n.getName());
      }
    }
    dev.tftrt.segment.Segmenter.Options d = dev.tftrt.segment.Segmenter.Options.defaults();
    return new dev.tftrt.segment.Segmenter.Options(d.minSegmentSize(), d.maxEngines(), d.excludeOps(), inLoops);
  }

  /** No engine at all: what the converted folder and its loading cost by themselves. */
  static dev.tftrt.segment.Segmenter.Options noEngines() {
    dev.tftrt.segment.Segmenter.Options d = dev.tftrt.segment.Segmenter.Options.defaults();
    return new dev.tftrt.segment.Segmenter.Options(d.minSegmentSize(), 0, d.excludeOps(), d.excludeNodes());
  }

  /** Engines wherever the segmenter finds clusters, in while loops too (as for TensorRT). */
  static dev.tftrt.segment.Segmenter.Options allSegments() {
    return dev.tftrt.segment.Segmenter.Options.defaults().withTarget(dev.tftrt.segment.Segmenter.Target.GPU);
  }

  interface Call {
    void run();
  }

  /**
   * threads threads call c back to back for seconds: completed calls per second of wall time,
   * and per second of this process's CPU time (all its threads).
   */
  static double[] callsPerSecond(Call c, int threads, double seconds) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong calls = new AtomicLong();
    CountDownLatch done = new CountDownLatch(threads);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          while (!stop.get()) {
            c.run();
            calls.incrementAndGet();
          }
        } finally {
          done.countDown();
        }
      });
      ts.add(th);
    }
    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    ts.forEach(Thread::start);
    Thread.sleep((long) (seconds * 1000));
    stop.set(true);
    done.await();
    double wall = (System.nanoTime() - t0) / 1e9;
    double cpu = (processCpuNanos() - cpu0) / 1e9;
    return new double[] {calls.get() / wall, cpu > 0 ? calls.get() / cpu : Double.NaN};
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** The 1, 5 and 15 minute load averages (Linux), or "unknown". */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static String arg(String[] args, int i, String dflt) {
    return args.length > i ? args[i] : dflt;
  }

  private ConcurrentEnginesBenchmark() {}
}
