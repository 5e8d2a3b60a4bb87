package dev.tftrt.bench;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.runtime.Feeds;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The feeds of one benchmark run at a batch size: dimension 0 of every input of rank 1 or more
 * is the batch. Inputs given by the user are repeated along it to fill the batch (an image given
 * once is benchmarked at batch 8 as eight copies); the others are seeded random values, as for
 * {@code run --random}. An input whose graph fixes its batch to another size is refused.
 */
final class BatchFeeds {
  private BatchFeeds() {}

  /**
   * Feeds for runner at batch (null: the shapes as given or declared, unknown dimensions 1),
   * keyed by its input keys.
   */
  static Map<String, HostTensor> make(ModelRunner runner, Map<String, HostTensor> given,
      Map<String, long[]> shapes, Integer batch, long seed) {
    if (batch != null) checkBatch(runner, batch);
    Map<String, long[]> asked = new LinkedHashMap<>(shapes);
    Map<String, HostTensor> probe = null;
    if (batch != null) {
      for (TensorSpec in : runner.inputs()) {
        if (given.containsKey(in.key())) continue;
        long[] s = Feeds.override(in, shapes);
        if (s == null && in.shape() == null) {
          // No declared rank: the shape the runner implies (its readers' rank), generated once.
          if (probe == null) probe = runner.randomInputs(shapes, seed);
          s = probe.get(in.key()).shape();
        }
        if (s == null) s = Feeds.concreteShape(in, Map.of());
        if (s.length == 0) continue;
        s = s.clone();
        s[0] = batch;
        asked.keySet().removeIf(k -> k.equals(in.tensor()) || k.equals(dev.tftrt.model.TensorNames.node(in.tensor())));
        asked.put(in.key(), s);
      }
    }
    Map<String, HostTensor> feeds = new LinkedHashMap<>();
    Map<String, HostTensor> random = null;
    for (TensorSpec in : runner.inputs()) {
      HostTensor t = given.get(in.key());
      if (t != null) {
        feeds.put(in.key(), batch == null ? t : repeat(t, batch, in.key()));
        continue;
      }
      if (random == null) random = runner.randomInputs(asked, seed);
      feeds.put(in.key(), random.get(in.key()));
    }
    return feeds;
  }

  /** Every input of rank 1 or more must take the batch size asked in dimension 0. */
  static void checkBatch(ModelRunner runner, int batch) {
    for (TensorSpec in : runner.inputs()) {
      long[] s = in.shape();
      if (s != null && s.length > 0 && s[0] >= 0 && s[0] != batch) {
        throw new TftrtException("input '" + in.key() + "' of " + runner.describe() + " has a fixed batch of "
            + s[0] + " (shape " + Feeds.dims(s) + "), so it cannot be benchmarked at --batch " + batch + ".");
      }
    }
  }

  /** t with its dimension 0 made batch by repeating its rows in turn. */
  static HostTensor repeat(HostTensor t, int batch, String name) {
    long[] shape = t.shape();
    if (shape.length == 0 || shape[0] == batch) return t;
    if (shape[0] == 0) {
      throw new TftrtException("input '" + name + "' was given with a batch of 0, so it cannot fill a batch of " + batch + ".");
    }
    long rows = shape[0];
    long[] out = shape.clone();
    out[0] = batch;
    long perRow = HostTensor.numElements(shape) / rows;
    if (t.dtype() == org.tensorflow.proto.DataType.DT_STRING) {
      byte[][] v = new byte[Math.toIntExact(perRow * batch)][];
      for (int i = 0; i < v.length; i++) v[i] = t.string((int) ((i / perRow) % rows * perRow + i % perRow));
      return HostTensor.ofStrings(out, v);
    }
    int rowBytes = Math.toIntExact(perRow * DTypes.byteSize(t.dtype()));
    long total = (long) rowBytes * batch;
    dev.tftrt.util.Memory.checkJavaBuffer("input '" + name + "' at batch " + batch, total);
    ByteBuffer src = t.data();
    ByteBuffer dst = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    byte[] row = new byte[rowBytes];
    for (int b = 0; b < batch; b++) {
      src.position((int) ((b % rows) * rowBytes));
      src.get(row);
      dst.put(row);
    }
    dst.flip();
    return HostTensor.of(t.dtype(), out, dst);
  }

  /** The shapes of feeds, for messages and the report. */
  static Map<String, String> shapes(Map<String, HostTensor> feeds) {
    Map<String, String> r = new LinkedHashMap<>();
    for (Map.Entry<String, HostTensor> e : feeds.entrySet()) r.put(e.getKey(), Arrays.toString(e.getValue().shape()));
    return r;
  }
}
