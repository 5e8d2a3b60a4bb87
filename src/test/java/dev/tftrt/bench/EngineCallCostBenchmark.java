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
import java.util.stream.Stream;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * Where one engine call's time goes on the CPU (issue 9), single-threaded: the model with its
 * engines inside the while loop against the same model with none there (the difference, per
 * loop engine call, is what an engine call costs beyond the TensorFlow ops it replaces), and
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
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    Map<String, HostTensor> wav = Map.of("wav_data", HostTensor.ofStrings(new long[0],
        new byte[][] {Wav.randomClip(16000, 1, 16000, 3)}));
    Path tmp = Files.createTempDirectory("tftrt-callcost-");
    Path inLoop = tmp.resolve("in-loop");
    Path outside = tmp.resolve("outside");
    ConvertJob.Report ra = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), inLoop).given(wav)
        .segments(ConcurrentEnginesBenchmark.allSegments()).build());
    ConvertJob.Report rb = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), outside).given(wav)
        .segments(ConcurrentEnginesBenchmark.outsideLoops(model)).build());
    System.out.printf("engines: %d with the loop's, %d without%n", ra.engines().size(), rb.engines().size());
    try (TfModel original = TfModel.load(LoadOptions.of(model));
        TftrtModel a = TftrtModel.load(inLoop);
        TftrtModel b = TftrtModel.load(outside);
        Tensor in = wav.get("wav_data").toTensor()) {
      TensorSpec input = original.inputs().get(0);
      ConcurrentEnginesBenchmark.Call o = () -> {
        Session.Runner run = original.session().runner().feed(input.tensor(), in);
        for (TensorSpec out : original.outputs()) run.fetch(out.tensor());
        run.run().close();
      };
      ConcurrentEnginesBenchmark.Call ca = () -> a.call(Map.of(a.inputs().get(0).key(), in)).close();
      ConcurrentEnginesBenchmark.Call cb = () -> b.call(Map.of(b.inputs().get(0).key(), in)).close();
      List<Double> to = new ArrayList<>(), ta = new ArrayList<>(), tb = new ArrayList<>();
      for (int r = 0; r < 5; r++) {
        to.add(micros(o, calls));
        ta.add(micros(ca, calls));
        tb.add(micros(cb, calls));
      }
      System.out.printf("per model call (µs): original %.0f, engines in the loop %.0f, none in the loop %.0f%n",
          median(to), median(ta), median(tb));
    }
    try (Stream<Path> s = Files.list(inLoop.resolve("payloads"))) {
      for (Path p : s.sorted().toList()) {
        try {
          ortRun(p, calls * 20);
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
