package dev.tftrt.samples;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.runtime.Outputs;
import dev.tftrt.runtime.TftrtModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * What a Java service does with a converted model: load it once, call it from several threads,
 * read the outputs as TensorFlow Java tensors.
 *
 * <pre>
 * java dev.tftrt.samples.ClassifyService CONVERTED_DIR [--threads 4] [--calls 5] [--batch 2]
 * </pre>
 *
 * <p>Every input must be float32. An unknown first dimension becomes the batch size, any other
 * unknown dimension 1. The input of thread {@code t}, call {@code c} is reproducible: the
 * values come from {@code new java.util.Random(1000 * t + c).nextFloat()}, input after input in
 * the model's order, each filled in row-major order. For every float32 output the sample takes
 * the arg max of each row (the last dimension) and folds all of them, thread by thread and call
 * by call, into the printed checksum, so two runs on the same model and inputs print the same
 * one whatever the threads' timing.
 *
 * <p>Exit codes: 0 when every call succeeded, 1 when a call failed, 2 on bad arguments.
 */
public final class ClassifyService {
  static final int BAD_INPUT = 2;

  private ClassifyService() {}

  /** One call's outcome: its latency and, per float32 output, the arg max of each row. */
  record Call(int thread, int call, long nanos, List<int[]> argmax, String error) {}

  public static void main(String[] args) throws Exception {
    int threads = 4;
    int calls = 5;
    int batch = 2;
    Path dir = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--threads" -> threads = positive(args, ++i);
          case "--calls" -> calls = positive(args, ++i);
          case "--batch" -> batch = positive(args, ++i);
          default -> {
            if (args[i].startsWith("-") || dir != null) throw new IllegalArgumentException("unexpected argument '" + args[i] + "'.");
            dir = Path.of(args[i]);
          }
        }
      }
      if (dir == null) {
        throw new IllegalArgumentException("give the folder `tftrt convert` wrote: ClassifyService CONVERTED_DIR"
            + " [--threads N] [--calls N] [--batch N].");
      }
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(dir + " does not exist or is not a folder; give the folder `tftrt convert` wrote.");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("ClassifyService: " + e.getMessage());
      System.exit(BAD_INPUT);
    }
    int code = run(dir, threads, calls, batch);
    if (code != 0) System.exit(code);
  }

  private static int positive(String[] args, int i) {
    String flag = args[i - 1];
    if (i >= args.length) throw new IllegalArgumentException(flag + " needs a number.");
    try {
      int n = Integer.parseInt(args[i]);
      if (n > 0) return n;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(flag + " takes a positive number, not '" + args[i] + "'.");
  }

  static int run(Path dir, int threads, int calls, int batch) throws Exception {
    TftrtModel model;
    try {
      model = TftrtModel.load(dir); // once, for the whole service
    } catch (TftrtException e) {
      System.err.println("ClassifyService: " + e.getMessage());
      return BAD_INPUT;
    }
    try (model) {
      for (TensorSpec in : model.inputs()) {
        if (in.dtype() != DataType.DT_FLOAT || in.shape() == null) {
          System.err.println("ClassifyService: input '" + in.key() + "' is " + in.describe()
              + ", but this sample feeds only float32 inputs of known rank.");
          return BAD_INPUT;
        }
      }
      System.out.println("model: " + dir);
      model.inputs().forEach(s -> System.out.println("  input  " + s.describe()));
      model.outputs().forEach(s -> System.out.println("  output " + s.describe()));
      model.backends().forEach((node, backend) -> System.out.println("  engine " + node + " runs on " + backend));

      Call[][] results = new Call[threads][calls];
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          futures.add(pool.submit(() -> {
            for (int c = 0; c < calls; c++) {
              Call r = callOnce(model, thread, c, batch);
              results[thread][c] = r;
              System.out.println(r.error() == null
                  ? String.format("  thread %d call %d: %6.2f ms, classes %s", thread, c, r.nanos() / 1e6, classes(r))
                  : String.format("  thread %d call %d: failed: %s", thread, c, r.error()));
            }
          }));
        }
        for (Future<?> f : futures) f.get();
      } finally {
        pool.shutdown();
      }
      return summarize(results, threads, calls);
    }
  }

  /** Builds this call's inputs as TF Java tensors, runs the model, reads the outputs, closes everything. */
  static Call callOnce(TftrtModel model, int thread, int call, int batch) {
    Random rnd = new Random(1000L * thread + call);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    try {
      for (TensorSpec in : model.inputs()) feeds.put(in.key(), randomInput(in.shape(), batch, rnd));
      long start = System.nanoTime();
      try (Outputs r = model.call(feeds)) { // owns the output tensors: closing it frees them
        long nanos = System.nanoTime() - start;
        List<int[]> argmax = new ArrayList<>();
        for (TensorSpec o : model.outputs()) {
          // By the signature's name ("probabilities"), as the model was exported.
          if (r.get(o.key()).orElseThrow() instanceof TFloat32 out && out.shape().numDimensions() > 0) {
            argmax.add(argmaxPerRow(out));
          }
        }
        return new Call(thread, call, nanos, argmax, null);
      }
    } catch (RuntimeException e) {
      return new Call(thread, call, 0, List.of(), e.getMessage());
    } finally {
      feeds.values().forEach(Tensor::close);
    }
  }

  static TFloat32 randomInput(long[] dims, int batch, Random rnd) {
    long[] shape = dims.clone();
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) shape[d] = d == 0 ? batch : 1;
    }
    float[] values = new float[Math.toIntExact(Shape.of(shape).size())];
    for (int i = 0; i < values.length; i++) values[i] = rnd.nextFloat();
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  /** The index of the largest value in each row (the last dimension) of {@code t}. */
  static int[] argmaxPerRow(TFloat32 t) {
    Shape s = t.shape();
    int cols = Math.toIntExact(s.get(s.numDimensions() - 1));
    float[] values = new float[Math.toIntExact(s.size())];
    t.copyTo(DataBuffers.of(values, false, false));
    int[] best = new int[cols == 0 ? 0 : values.length / cols];
    for (int row = 0; row < best.length; row++) {
      for (int c = 1; c < cols; c++) {
        if (values[row * cols + c] > values[row * cols + best[row]]) best[row] = c;
      }
    }
    return best;
  }

  private static String classes(Call r) {
    return r.argmax().isEmpty() ? "-" : Arrays.toString(r.argmax().get(r.argmax().size() - 1));
  }

  private static int summarize(Call[][] results, int threads, int calls) {
    List<Long> nanos = new ArrayList<>();
    TreeMap<Integer, Integer> histogram = new TreeMap<>();
    int failed = 0;
    int checksum = 17;
    for (Call[] perThread : results) {
      for (Call r : perThread) {
        if (r.error() != null) {
          failed++;
          continue;
        }
        nanos.add(r.nanos());
        for (int[] rows : r.argmax()) {
          for (int cls : rows) checksum = 31 * checksum + cls;
        }
        if (!r.argmax().isEmpty()) {
          for (int cls : r.argmax().get(r.argmax().size() - 1)) histogram.merge(cls, 1, Integer::sum);
        }
      }
    }
    System.out.printf("calls: %d threads x %d, %s%n", threads, calls,
        failed == 0 ? "all succeeded" : failed + " failed");
    if (!nanos.isEmpty()) {
      nanos.sort(null);
      System.out.printf("latency ms: min %.2f, median %.2f, p90 %.2f, max %.2f%n", nanos.get(0) / 1e6,
          nanos.get(nanos.size() / 2) / 1e6, nanos.get((int) Math.ceil(nanos.size() * 0.9) - 1) / 1e6,
          nanos.get(nanos.size() - 1) / 1e6);
      System.out.println("predicted classes (class: rows): " + histogram);
    }
    if (failed == 0) System.out.printf("checksum: %08x%n", checksum);
    return failed == 0 ? 0 : 1;
  }
}
