package dev.tftrt.pipeline;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.precision.calibrate.Calibration;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.runtime.Feeds;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.tensorflow.proto.DataType;

/**
 * Calibration of every segment from data given for the MODEL's inputs. A segment's inputs are
 * often intermediate tensors, so each batch is run through the optimized TensorFlow graph first,
 * fetching every segment's inputs, and each segment's share goes to its own {@link
 * Calibration#collect} (one thread per segment, fed through a queue of one batch): one pass over
 * the data serves all segments, and no more than a batch or two of activations is ever held.
 * The last rows of the data are held out (never calibrated on) so that accuracy is measured on
 * samples calibration did not see.
 */
final class SegmentCalibration {
  private SegmentCalibration() {}

  /** At most this many rows are held out, and at most this many bytes of model inputs. */
  static final int HOLDOUT_MAX_ROWS = 64;
  static final long HOLDOUT_MAX_BYTES = 16L << 20;
  /** A fifth of the data is held out (up to the caps above); less than this many rows: none. */
  static final int HOLDOUT_FRACTION = 5;

  /** One segment to calibrate: its engine name and FP32 ONNX (inputs named by TF tensor). */
  record Target(String engine, ModelProto fp32) {}

  /**
   * What the pass found: each segment's ranges (null when not calibrating), the held-out rows as
   * batches of model inputs, and the same batches as each segment's inputs.
   */
  record Result(List<TensorRanges> ranges, List<Map<String, HostTensor>> heldOut,
      List<List<Map<String, HostTensor>>> heldOutPerSegment, long calibratedRows, long millis) {
    long heldOutRows() {
      long n = 0;
      for (Map<String, HostTensor> b : heldOut) n += b.values().iterator().next().shape()[0];
      return n;
    }
  }

  private static final Object END = new Object();
  private static final Object ABORT = new Object();

  /**
   * @param calibrate false: only hold out rows (the ranges come from a cache)
   */
  static Result run(Plan plan, Map<String, long[]> shapes, List<Target> targets, CalibrationData data, Int8Options o,
      boolean calibrate) {
    long t0 = System.nanoTime();
    // the shapes given with --shape: what images are resized to, and what arrays must fit
    List<TensorSpec> inputs = new ArrayList<>();
    for (TensorSpec in : plan.frozen().inputs()) {
      long[] s = Feeds.override(in, shapes);
      inputs.add(s == null ? in : new TensorSpec(in.key(), in.tensor(), in.dtype(), Feeds.concreteShape(in, shapes)));
    }
    for (TensorSpec in : inputs) {
      if (in.dtype() == DataType.DT_STRING) {
        throw new TftrtException("Input " + in.key() + " is a string tensor, which calibration data cannot feed.");
      }
    }
    int batch = batchOf(inputs, o.batch());
    // a segment input that is a model input is taken from the feed (TensorFlow refuses to fetch what is fed)
    Map<String, String> fed = new LinkedHashMap<>();
    for (TensorSpec in : inputs) fed.put(TensorNames.canonical(in.tensor()), in.key());
    List<TensorSpec> fetches = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (Target t : targets) {
      for (TensorSpec s : Calibration.inputs(t.fp32())) {
        if (!fed.containsKey(TensorNames.canonical(s.key())) && seen.add(s.key())) {
          fetches.add(new TensorSpec(s.key(), s.key(), s.dtype(), s.shape()));
        }
      }
    }
    Prefix tf = new Prefix(fed, fetches);
    List<BlockingQueue<Object>> queues = new ArrayList<>();
    List<Future<TensorRanges>> futures = new ArrayList<>();
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread th = new Thread(r, "tftrt-calibration");
      th.setDaemon(true);
      return th;
    });
    boolean ok = false;
    try (TfRunner prefix = fetches.isEmpty() ? null : new TfRunner(TfModel.fromGraphDef(plan.graph().graphDef(),
        "the TensorFlow graph that feeds the engines", inputs, fetches, TfModel.exactConfig()))) {
      tf.runner = prefix;
      Rows rows = new Rows(data.samples(inputs), inputs, data.describe());
      ArrayDeque<Map<String, HostTensor>> held = new ArrayDeque<>();
      long cap = HOLDOUT_MAX_ROWS;
      List<Map<String, HostTensor>> pending = new ArrayList<>();
      long calibrated = 0;
      while (rows.hasNext()) {
        Map<String, HostTensor> row = rows.next();
        cap = Math.min(cap, Math.max(1, HOLDOUT_MAX_BYTES / Math.max(1, bytes(row))));
        held.addLast(row);
        while (held.size() > cap) {
          pending.add(held.removeFirst());
          if (pending.size() == batch) {
            calibrated += feed(tf, concat(pending), targets, queues, futures, pool, calibrate ? o : null);
            pending.clear();
          }
        }
      }
      long total = calibrated + pending.size() + held.size();
      if (total == 0) throw new TftrtException(data.describe() + " holds no samples.");
      long keep = Math.min(held.size(), total / HOLDOUT_FRACTION);
      keep -= keep % batchFixed(inputs, batch);
      while (held.size() > keep) {
        pending.add(held.removeFirst());
        if (pending.size() == batch) {
          calibrated += feed(tf, concat(pending), targets, queues, futures, pool, calibrate ? o : null);
          pending.clear();
        }
      }
      if (!pending.isEmpty() && !fixed(inputs)) {
        calibrated += feed(tf, concat(pending), targets, queues, futures, pool, calibrate ? o : null);
        pending.clear();
      }
      if (calibrate && calibrated == 0) {
        throw new TftrtException(data.describe() + " holds " + total + " sample(s), too few to calibrate on"
            + (fixed(inputs) ? " in whole batches of " + batch : "") + ".");
      }
      List<TensorRanges> ranges = null;
      if (calibrate) {
        for (int i = 0; i < queues.size(); i++) offer(queues.get(i), END, futures.get(i));
        ranges = new ArrayList<>();
        for (Future<TensorRanges> f : futures) ranges.add(result(f));
      }
      List<Map<String, HostTensor>> heldOut = new ArrayList<>();
      List<List<Map<String, HostTensor>>> perSegment = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) perSegment.add(new ArrayList<>());
      List<Map<String, HostTensor>> rest = new ArrayList<>(held);
      int step = fixed(inputs) ? batch : rest.size();
      for (int at = 0; at < rest.size(); at += step) {
        Map<String, HostTensor> b = concat(rest.subList(at, Math.min(rest.size(), at + step)));
        heldOut.add(b);
        List<Map<String, HostTensor>> split = tf.split(b, targets);
        for (int i = 0; i < targets.size(); i++) perSegment.get(i).add(split.get(i));
      }
      ok = true;
      return new Result(ranges, heldOut, perSegment, calibrated, (System.nanoTime() - t0) / 1_000_000);
    } finally {
      if (!ok) for (BlockingQueue<Object> q : queues) q.offer(ABORT);
      pool.shutdownNow();
    }
  }

  /** Runs one batch through TensorFlow and hands each segment its inputs; returns the rows fed. */
  private static long feed(Prefix prefix, Map<String, HostTensor> batch, List<Target> targets,
      List<BlockingQueue<Object>> queues, List<Future<TensorRanges>> futures, ExecutorService pool, Int8Options o) {
    long n = batch.values().iterator().next().shape()[0];
    if (o == null) return n; // holding out only
    List<Map<String, HostTensor>> split = prefix.split(batch, targets);
    if (queues.isEmpty()) {
      // started at the first batch, so data without samples never starts a calibration
      for (Target t : targets) {
        BlockingQueue<Object> q = new ArrayBlockingQueue<>(1);
        queues.add(q);
        CalibrationData fed = fedFrom(q, t.engine());
        futures.add(pool.submit(() -> Int8Rewrite.calibrate(t.fp32(), fed, onePass(o))));
      }
    }
    for (int i = 0; i < targets.size(); i++) {
      checkBatched(split.get(i), n, targets.get(i).engine());
      offer(queues.get(i), split.get(i), futures.get(i));
    }
    return n;
  }

  /** The options in use, with a batch that never splits what TensorFlow produced. */
  private static Int8Options onePass(Int8Options o) {
    return new Int8Options(o.calibrator(), o.percentile(), o.calibrationData(), o.calibrationCache(), o.preprocess(),
        o.rest(), Integer.MAX_VALUE);
  }

  /** Calibration slices along the first axis: every input of a segment must have the batch there. */
  private static void checkBatched(Map<String, HostTensor> in, long n, String engine) {
    for (Map.Entry<String, HostTensor> e : in.entrySet()) {
      long[] s = e.getValue().shape();
      if (s.length == 0 || s[0] != n) {
        throw new TftrtException("Engine " + engine + " takes " + e.getKey() + " of shape " + Arrays.toString(s)
            + ", which has no batch axis first (the batch fed is " + n + "), so it cannot be calibrated batch by batch;"
            + " leave its producer or consumer in TensorFlow (--exclude-nodes) or use fp16.");
      }
    }
  }

  /** The TensorFlow part before the engines: what each segment reads, for one batch of model inputs. */
  private static final class Prefix {
    final Map<String, String> fed; // canonical tensor name -> model input key
    final List<TensorSpec> fetches;
    TfRunner runner; // null when every segment reads only model inputs

    Prefix(Map<String, String> fed, List<TensorSpec> fetches) {
      this.fed = fed;
      this.fetches = fetches;
    }

    List<Map<String, HostTensor>> split(Map<String, HostTensor> batch, List<Target> targets) {
      Map<String, HostTensor> fetched = runner == null ? Map.of() : runner.run(batch);
      List<Map<String, HostTensor>> r = new ArrayList<>();
      for (Target t : targets) {
        Map<String, HostTensor> m = new LinkedHashMap<>();
        for (TensorSpec s : Calibration.inputs(t.fp32())) {
          String key = fed.get(TensorNames.canonical(s.key()));
          m.put(s.key(), key != null ? batch.get(key) : fetched.get(s.key()));
        }
        r.add(m);
      }
      return r;
    }
  }

  /** Hands a batch to a segment's calibration, noticing when that calibration has already failed. */
  private static void offer(BlockingQueue<Object> q, Object item, Future<TensorRanges> f) {
    try {
      while (!q.offer(item, 50, TimeUnit.MILLISECONDS)) {
        if (f.isDone()) {
          result(f);
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TftrtException("calibration was interrupted.", e);
    }
  }

  private static TensorRanges result(Future<TensorRanges> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TftrtException("calibration was interrupted.", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw new IllegalStateException(e.getCause());
    }
  }

  /** A segment's calibration data: the batches the TensorFlow pass puts into its queue. */
  private static CalibrationData fedFrom(BlockingQueue<Object> q, String engine) {
    return new CalibrationData() {
      @Override
      public Iterator<Map<String, HostTensor>> samples(List<TensorSpec> inputs) {
        return new Iterator<>() {
          Object next;

          @Override
          public boolean hasNext() {
            if (next == null) {
              try {
                next = q.take();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                next = ABORT;
              }
            }
            if (next == ABORT) throw new TftrtException("calibration of " + engine + " was stopped.");
            return next != END;
          }

          @Override
          @SuppressWarnings("unchecked")
          public Map<String, HostTensor> next() {
            if (!hasNext()) throw new NoSuchElementException();
            Map<String, HostTensor> r = (Map<String, HostTensor>) next;
            next = null;
            return r;
          }
        };
      }

      @Override
      public String describe() {
        return "the calibration data as fed to engine " + engine;
      }
    };
  }

  /** The batch TensorFlow is fed: the model's own when it fixes one, else the calibration batch. */
  private static int batchOf(List<TensorSpec> inputs, int batch) {
    for (TensorSpec s : inputs) {
      long[] sh = s.shape();
      if (sh != null && sh.length > 0 && sh[0] > 0) return (int) sh[0];
    }
    return batch;
  }

  private static boolean fixed(List<TensorSpec> inputs) {
    for (TensorSpec s : inputs) {
      long[] sh = s.shape();
      if (sh != null && sh.length > 0 && sh[0] > 0) return true;
    }
    return false;
  }

  private static int batchFixed(List<TensorSpec> inputs, int batch) {
    return fixed(inputs) ? batch : 1;
  }

  private static long bytes(Map<String, HostTensor> row) {
    long b = 0;
    for (HostTensor t : row.values()) b += t.data().remaining();
    return b;
  }

  /** The samples given, one row (batch of 1) at a time, as views of the arrays read. */
  private static final class Rows implements Iterator<Map<String, HostTensor>> {
    private final Iterator<Map<String, HostTensor>> samples;
    private final String what;
    private Map<String, HostTensor> current;
    private long at;
    private long n;

    Rows(Iterator<Map<String, HostTensor>> samples, List<TensorSpec> inputs, String what) {
      this.samples = samples;
      this.what = what;
    }

    @Override
    public boolean hasNext() {
      while (current == null || at >= n) {
        if (!samples.hasNext()) return false;
        current = samples.next();
        at = 0;
        n = -1;
        for (Map.Entry<String, HostTensor> e : current.entrySet()) {
          long b = e.getValue().shape()[0];
          if (n >= 0 && b != n) {
            throw new TftrtException(what + " gives its inputs different batch sizes (" + n + " and " + b + ").");
          }
          n = b;
        }
      }
      return true;
    }

    @Override
    public Map<String, HostTensor> next() {
      if (!hasNext()) throw new NoSuchElementException();
      Map<String, HostTensor> r = new LinkedHashMap<>();
      for (Map.Entry<String, HostTensor> e : current.entrySet()) r.put(e.getKey(), row(e.getValue(), at));
      at++;
      return r;
    }
  }

  static HostTensor row(HostTensor t, long i) {
    long[] s = t.shape();
    long rowBytes = HostTensor.numElements(s) / s[0] * DTypes.byteSize(t.dtype());
    ByteBuffer d = t.data().duplicate();
    d.position((int) (i * rowBytes)).limit((int) ((i + 1) * rowBytes));
    s[0] = 1;
    return HostTensor.of(t.dtype(), s, d.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** Rows stacked along the first axis. */
  static Map<String, HostTensor> concat(List<Map<String, HostTensor>> rows) {
    Map<String, HostTensor> r = new LinkedHashMap<>();
    for (String k : rows.get(0).keySet()) {
      HostTensor first = rows.get(0).get(k);
      if (rows.size() == 1) {
        r.put(k, first);
        continue;
      }
      long rowBytes = first.data().remaining();
      ByteBuffer b = ByteBuffer.allocate((int) (rowBytes * rows.size())).order(ByteOrder.LITTLE_ENDIAN);
      for (Map<String, HostTensor> row : rows) b.put(row.get(k).data().duplicate());
      b.flip();
      long[] s = first.shape();
      s[0] = rows.size();
      r.put(k, HostTensor.of(first.dtype(), s, b));
    }
    return r;
  }
}
