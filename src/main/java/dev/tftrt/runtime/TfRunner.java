package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Wav;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;

/** Runs a {@link TfModel} with TensorFlow's own session. */
public final class TfRunner implements ModelRunner {
  private final TfModel model;
  private final boolean owns;
  private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(TfRunner.class.getName());
  private final Set<String> checkedShapes = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** A runner that closes the model when it is closed. */
  public TfRunner(TfModel model) {
    this(model, true);
  }

  private TfRunner(TfModel model, boolean owns) {
    this.model = model;
    this.owns = owns;
  }

  /** A runner over a model someone else closes. */
  public static TfRunner borrowing(TfModel model) {
    return new TfRunner(model, false);
  }

  public TfModel model() {
    return model;
  }

  @Override
  public String describe() {
    return model.path().toString();
  }

  @Override
  public List<TensorSpec> inputs() {
    return model.inputs();
  }

  @Override
  public List<TensorSpec> outputs() {
    return model.outputs();
  }

  /** String inputs read by DecodeWav get a valid WAV clip instead of an empty string. */
  @Override
  public Map<String, HostTensor> randomInputs(Map<String, long[]> shapes, long seed) {
    Feeds.checkShapeNames(inputs(), shapes, describe());
    shapes = withImpliedShapes(shapes);
    Map<String, HostTensor> r = Feeds.random(inputs(), shapes, seed);
    for (TensorSpec in : inputs()) {
      NodeDef wav = consumer(in, "DecodeWav");
      if (wav == null || in.dtype() != DataType.DT_STRING) continue;
      AttrValue n = wav.getAttrMap().get("desired_samples");
      AttrValue c = wav.getAttrMap().get("desired_channels");
      int samples = n == null || n.getI() <= 0 ? 16000 : (int) n.getI();
      int channels = c == null || c.getI() <= 0 ? 1 : (int) c.getI();
      long[] shape = in.shape() == null ? new long[0] : Feeds.concreteShape(in, shapes);
      int count = (int) HostTensor.numElements(shape);
      byte[][] clips = new byte[count][];
      for (int i = 0; i < count; i++) clips[i] = Wav.randomClip(samples, channels, 16000, seed + i);
      r.put(in.key(), HostTensor.ofStrings(shape, clips));
    }
    return r;
  }

  /**
   * The shapes given, plus one for each input of unknown rank that its consumers imply
   * (Conv2D: rank 4); an input neither gives is refused by {@link Feeds#concreteShape}.
   */
  private Map<String, long[]> withImpliedShapes(Map<String, long[]> shapes) {
    Map<String, long[]> r = new LinkedHashMap<>(shapes);
    for (TensorSpec in : inputs()) {
      if (in.shape() != null || Feeds.override(in, shapes) != null) continue;
      FeedShapes.Implied implied = FeedShapes.implied(model.graphDef(), in,
          outputs().stream().map(TensorSpec::tensor).toList());
      if (implied == null) continue;
      LOG.info(() -> "input '" + in.key() + "' has no shape; feeding " + Feeds.dims(implied.shape())
          + ", as node '" + implied.node() + "' (" + implied.op() + ") implies (--shape chooses another)");
      r.put(in.key(), implied.shape());
    }
    return r;
  }

  private NodeDef consumer(TensorSpec in, String op) {
    for (NodeDef n : model.graphDef().getNodeList()) {
      if (n.getOp().equals(op)) {
        for (String i : n.getInputList()) {
          if (TensorNames.canonical(i).equals(TensorNames.canonical(in.tensor()))) return n;
        }
      }
    }
    return null;
  }

  @Override
  public Map<String, HostTensor> run(Map<String, HostTensor> feeds) {
    Feeds.check(inputs(), feeds, describe());
    checkShapes(feeds);
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner r = model.session().runner();
      for (TensorSpec in : inputs()) {
        Tensor t = feeds.get(in.key()).toTensor();
        owned.add(t);
        r.feed(in.tensor(), t);
      }
      for (Map.Entry<String, HostTensor> b : model.bound().entrySet()) {
        Tensor t = b.getValue().toTensor();
        owned.add(t);
        r.feed(b.getKey(), t);
      }
      for (TensorSpec out : outputs()) r.fetch(out.tensor());
      Map<String, HostTensor> results = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < outputs().size(); i++) {
          results.put(outputs().get(i).key(), HostTensor.fromTensor(res.get(i)));
        }
      }
      return results;
    } catch (TensorFlowException | IllegalArgumentException e) {
      // No Java exception class in the sentence when TensorFlow gave no message.
      String m = e.getMessage() == null ? "TensorFlow gave no reason" : e.getMessage().strip();
      int nl = m.indexOf('\n');
      throw new TftrtException(describe() + " failed to run: " + (nl > 0 ? m.substring(0, nl) : m), e);
    } finally {
      for (Tensor t : owned) t.close();
    }
  }

  /** Each set of feed shapes once: TensorFlow's shape inference must accept it (see FeedShapes). */
  private void checkShapes(Map<String, HostTensor> feeds) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (TensorSpec in : inputs()) shapes.put(in.key(), feeds.get(in.key()).shape());
    // Values bound with --set are fed too, and can be of a shape no reader takes.
    List<TensorSpec> fed = new ArrayList<>(inputs());
    for (Map.Entry<String, HostTensor> b : model.bound().entrySet()) {
      fed.add(new TensorSpec(b.getKey(), b.getKey(), b.getValue().dtype(), null));
      shapes.put(b.getKey(), b.getValue().shape());
    }
    String key = Feeds.shapesKey(shapes);
    if (checkedShapes.contains(key)) return;
    FeedShapes.check(model.graphDef(), fed, shapes, describe(), Feeds.shapeHint(inputs()));
    if (checkedShapes.size() < 64) checkedShapes.add(key);
  }

  @Override
  public void close() {
    if (owns) model.close();
  }
}
