package dev.tftrt.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.ort.Ort;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Wav;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * Where one engine call's time goes on the CPU (issue 9), single-threaded: the original graph;
 * the model with its engines inside the while loop (as for TensorRT); as {@code convert}
 * segments it for a CPU backend (no engine in the loop); and tftrt's optimized graph with no
 * engine at all, called through {@code TftrtModel.call} (the difference to the original is
 * tftrt's own per-call cost, the difference to the rule's is its engines'); and
 * ONNX Runtime's own {@code session.run} on each engine's ONNX, with the input tensors made per
 * call as the backend does and made once. Prints microseconds per call (medians of 5 runs).
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*" dev.tftrt.bench.EngineCallCostBenchmark [model] [calls]
 * </pre>
 */
public final class EngineCallCostBenchmark {
  public static void main(String[] args) throws Exception {
    Path model = Path.of(args.length > 0 ? args[0] : "../shared/models/kws/LSTM_S.pb");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    Map<String, HostTensor> wav = Map.of("wav_data", HostTensor.ofStrings(new long[0],
        new byte[][] {Wav.randomClip(16000, 1, 16000, 3)}));
    Path tmp = Files.createTempDirectory("tftrt-callcost-");
    Path inLoop = tmp.resolve("in-loop");
    Path byRule = tmp.resolve("by-rule");
    Path none = tmp.resolve("none");
    ConvertJob.Report ra = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), inLoop).given(wav)
        .segments(ConcurrentEnginesBenchmark.allSegments()).build());
    ConvertJob.Report rb = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), byRule).given(wav).build());
    ConvertJob.Report rc = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), none).given(wav)
        .segments(new Segmenter.Options(Integer.MAX_VALUE, Integer.MAX_VALUE, Set.of(), Set.of())).build());
    System.out.printf("engines: %d with the loop's, %d by the CPU loop rule, %d in the optimized graph alone%n",
        ra.engines().size(), rb.engines().size(), rc.engines().size());
    try (TfModel original = TfModel.load(LoadOptions.of(model));
        TftrtModel a = TftrtModel.load(inLoop);
        TftrtModel b = TftrtModel.load(byRule);
        TftrtModel c = TftrtModel.load(none);
        Tensor in = wav.get("wav_data").toTensor()) {
      TensorSpec input = original.inputs().get(0);
      ConcurrentEnginesBenchmark.Call o = () -> {
        Session.Runner run = original.session().runner().feed(input.tensor(), in);
        for (TensorSpec out : original.outputs()) run.fetch(out.tensor());
        run.run().close();
      };
      List<ConcurrentEnginesBenchmark.Call> calls = new ArrayList<>(List.of(o));
      for (TftrtModel m : List.of(a, b, c)) calls.add(() -> m.call(Map.of(m.inputs().get(0).key(), in)).close());
      List<List<Double>> t = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      List<List<Double>> cpu = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      for (int r = 0; r < 7; r++) { // interleaved, so load on the machine hits all alike
        for (int k = 0; k < calls.size(); k++) {
          long c0 = processCpuNanos();
          t.get(k).add(micros(calls.get(k), n));
          cpu.get(k).add((processCpuNanos() - c0) / 1e3 / (n + n / 10));
        }
      }
      System.out.printf("per model call (µs, median of 7): original %.0f, engines in the loop %.0f, by the rule %.0f,"
          + " no engine (tftrt's graph through TftrtModel.call) %.0f; load average %s%n",
          median(t.get(0)), median(t.get(1)), median(t.get(2)), median(t.get(3)), ConcurrentEnginesBenchmark.loadAverage());
      System.out.printf("process CPU per model call (µs, all threads): original %.0f, engines in the loop %.0f, by the rule %.0f,"
          + " no engine %.0f%n", median(cpu.get(0)), median(cpu.get(1)), median(cpu.get(2)), median(cpu.get(3)));
    }
    try (Stream<Path> s = Files.list(inLoop.resolve("payloads"))) {
      for (Path p : s.sorted().toList()) {
        try {
          ortRun(p, n * 20);
        } catch (RuntimeException e) { // an input of unknown shape: zeros of shape [1] do not fit
          System.out.println("ONNX Runtime session.run of " + p.getFileName() + ": not measured (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
      }
    }
  }

  /** session.run alone on zero inputs: tensors made per call (as the backend does) and made once. */
  private static void ortRun(Path onnx, int calls) throws Exception {
    OrtEnvironment env = Ort.environment();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.disablePerSessionThreads();
      try (OrtSession s = env.createSession(Files.readAllBytes(onnx), so)) {
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, ByteBuffer> bufs = new HashMap<>();
        for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
          long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
          long n = 1;
          for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) shape[i] = 1;
            n *= shape[i];
          }
          shapes.put(e.getKey(), shape);
          bufs.put(e.getKey(), ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder()));
        }
        Map<String, OnnxTensor> once = new HashMap<>();
        for (String k : shapes.keySet()) once.put(k, OnnxTensor.createTensor(env, bufs.get(k).asFloatBuffer(), shapes.get(k)));
        ConcurrentEnginesBenchmark.Call reuse = () -> {
          try {
            s.run(once).close();
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        };
        ConcurrentEnginesBenchmark.Call fresh = () -> {
          Map<String, OnnxTensor> f = new HashMap<>();
          try {
            for (String k : shapes.keySet()) {
              f.put(k, OnnxTensor.createTensor(env, bufs.get(k), shapes.get(k), ai.onnxruntime.OnnxJavaType.FLOAT));
            }
            s.run(f).close();
          } catch (Exception e) {
            throw new RuntimeException(e);
          } finally {
            f.values().forEach(OnnxTensor::close);
          }
        };
        List<Double> tr = new ArrayList<>(), tf = new ArrayList<>();
        for (int r = 0; r < 5; r++) {
          tr.add(micros(reuse, calls));
          tf.add(micros(fresh, calls));
        }
        System.out.printf("ONNX Runtime session.run of %s (%d inputs): %.1f µs with inputs made once, %.1f µs made per call%n",
            onnx.getFileName().toString().substring(0, 12), shapes.size(), median(tr), median(tf));
        once.values().forEach(OnnxTensor::close);
      }
    }
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  static double micros(ConcurrentEnginesBenchmark.Call c, int calls) {
    for (int i = 0; i < calls / 10; i++) c.run();
    long t0 = System.nanoTime();
    for (int i = 0; i < calls; i++) c.run();
    return (System.nanoTime() - t0) / 1e3 / calls;
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(Double::compare);
    return s.get(s.size() / 2);
  }

  private EngineCallCostBenchmark() {}
}
