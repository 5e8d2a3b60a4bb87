package dev.tftrt.runtime;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tftrt.TftrtException;
import dev.tftrt.model.GraphDefs;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.backend.Backends;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.splice.ConvertedModel;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * A converted model, loaded once and called from any number of threads. Every engine node gets
 * its backend when the model loads (ONNX Runtime sessions, TensorFlow fallback graphs), under a
 * key unique to this loaded model, so several models live side by side in one JVM; nothing is
 * built or loaded per call.
 *
 * <pre>
 * try (TftrtModel m = TftrtModel.load(Path.of("converted"))) {
 *   try (Result r = m.call(Map.of("image", imageTensor))) { ... }
 * }
 * </pre>
 */
public final class TftrtModel implements AutoCloseable {
  private static final AtomicLong LOADS = new AtomicLong();

  private final Path dir;
  private final String shown; // how messages name the model: its folder, or what it will become
  private final ConvertedModel.Manifest manifest;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final Map<String, String> backends = new LinkedHashMap<>();
  private final List<EngineBackend> owned = new ArrayList<>();
  private final List<EngineRegistry.Registration> registrations = new ArrayList<>();
  private final Graph graph;
  private final Session session;
  private volatile boolean closed;
  /** The graph as imported, engine payloads left out: what feed shapes are checked against. */
  private final GraphDef shapeGraph;
  private final java.util.Set<String> checkedShapes = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private TftrtModel(Path dir, String backendOverride, String shown) {
    this.dir = dir;
    this.shown = shown;
    this.manifest = ConvertedModel.readManifest(dir);
    this.inputs = manifest.inputSpecs(dir);
    this.outputs = manifest.outputSpecs(dir);
    GraphDef g = readGraph(dir);
    EngineOp.load();
    String prefix = "tftrt-model-" + LOADS.incrementAndGet() + "/";
    Graph gr = null;
    try {
      GraphDef.Builder b = g.toBuilder();
      java.util.Set<String> listed = new java.util.HashSet<>();
      for (ConvertedModel.Engine e : manifest.engines()) listed.add(e.name());
      for (int i = 0; i < b.getNodeCount(); i++) {
        NodeDef n = b.getNode(i);
        if (!n.getOp().equals(EngineNode.OP)) continue;
        EngineNode node = engineNode(n);
        checkSegmentFile(dir, manifest, node);
        listed.remove(n.getName());
        EngineBackend backend;
        try {
          backend = Backends.create(node, backendOverride, dir);
        } catch (TftrtException e) {
          throw e;
        } catch (Exception e) {
          throw new TftrtException("engine node '" + n.getName() + "' of " + shown + " could not get a backend"
              + (e.getMessage() == null ? "." : ": " + e.getMessage()), e);
        }
        if (backend == null) {
          throw new TftrtException("engine node '" + n.getName() + "' of " + shown + " has no usable backend.");
        }
        owned.add(backend);
        String key = prefix + n.getName();
        registrations.add(EngineRegistry.register(key, backend));
        backends.put(n.getName(), backend.describe());
        b.setNode(i, n.toBuilder().putAttr(EngineNode.ATTR_KEY, AttrValue.newBuilder()
            .setS(com.google.protobuf.ByteString.copyFromUtf8(key)).build()));
      }
      if (!listed.isEmpty()) {
        throw new TftrtException(dir.resolve(ConvertedModel.MANIFEST) + " lists engine '" + listed.iterator().next()
            + "', which the converted graph does not have.");
      }
      GraphDef keyed = b.build();
      gr = TfModel.importGraph(keyed, shown);
      this.shapeGraph = withoutPayloads(keyed);
      checkTensors(gr, dir, inputs, "input");
      checkTensors(gr, dir, outputs, "output");
      this.graph = gr;
      this.session = new Session(gr);
    } catch (RuntimeException e) {
      if (gr != null) gr.close();
      releaseBackends();
      throw e;
    }
  }

  /** Engine nodes' shape function reads only their shapes: their ONNX and segment bytes need not be kept twice. */
  private static GraphDef withoutPayloads(GraphDef g) {
    GraphDef.Builder b = g.toBuilder();
    AttrValue empty = AttrValue.newBuilder().setS(com.google.protobuf.ByteString.EMPTY).build();
    for (int i = 0; i < b.getNodeCount(); i++) {
      NodeDef n = b.getNode(i);
      if (!n.getOp().equals(EngineNode.OP)) continue;
      NodeDef.Builder nb = n.toBuilder();
      for (String a : List.of(EngineNode.ATTR_ONNX, EngineNode.ATTR_SEGMENT, EngineNode.ATTR_ENGINE)) {
        if (n.getAttrMap().containsKey(a)) nb.putAttr(a, empty);
      }
      b.setNode(i, nb);
    }
    return b.build();
  }

  /** Loads with each engine node's own backend choice (set at convert time). */
  public static TftrtModel load(Path dir) {
    return load(dir, null);
  }

  /** Loads with every engine node on one backend: auto, tensorrt, onnxruntime or tensorflow. */
  public static TftrtModel load(Path dir, String backendOverride) {
    return load(dir, backendOverride, dir.toString());
  }

  /**
   * As {@link #load(Path, String)}, with messages naming the model as shownAs: a folder being
   * verified before it is moved into place is named after the user's target, not its temporary name.
   */
  public static TftrtModel load(Path dir, String backendOverride, String shownAs) {
    if (!Files.isDirectory(dir)) throw new TftrtException(dir + " does not exist or is not a folder.");
    if (!ConvertedModel.isConverted(dir)) {
      throw new TftrtException(dir + " is not a converted model: it has no " + ConvertedModel.MANIFEST + ".");
    }
    return new TftrtModel(dir, backendOverride, shownAs);
  }

  private static EngineNode engineNode(NodeDef n) {
    try {
      return EngineNode.fromNodeDef(n);
    } catch (RuntimeException e) {
      throw new TftrtException("engine node '" + n.getName() + "' is damaged: " + e.getMessage(), e);
    }
  }

  /**
   * The segment's .onnx file is a copy of what the node carries; if it differs, the folder has
   * been damaged or edited, and a user running that file elsewhere would get another model.
   */
  private static void checkSegmentFile(Path dir, ConvertedModel.Manifest manifest, EngineNode node) {
    // Every engine node must be listed: an entry removed from the manifest must not mean "unchecked".
    ConvertedModel.Engine e = manifest.engines().stream().filter(x -> x.name().equals(node.name()))
        .findFirst().orElseThrow(() -> new TftrtException("engine node '" + node.name() + "' of " + dir
            + " is not listed in its " + ConvertedModel.MANIFEST + ", so it cannot be checked: convert the model again."));
    Path f = ConvertedModel.file(dir, e.onnx(), "engine '" + e.name() + "'");
    if (!Files.exists(f)) {
      throw new TftrtException(dir + " is incomplete: " + e.onnx() + " (engine node '" + node.name() + "') is missing.");
    }
    byte[] bytes = GraphDefs.readBytes(f);
    if (!node.onnx().equals(com.google.protobuf.ByteString.copyFrom(bytes))) {
      throw new TftrtException(f + " is damaged: it is not the ONNX model engine node '" + node.name()
          + "' carries; convert the model again.");
    }
    if (!ConvertedModel.sha256(bytes).equals(e.sha256())) {
      throw new TftrtException(f + " does not match its SHA-256 in " + ConvertedModel.MANIFEST
          + "; the folder has been edited: convert the model again.");
    }
  }

  /** The manifest's tensors must be in the graph: a session would otherwise fail on each call. */
  private static void checkTensors(Graph g, Path dir, List<TensorSpec> specs, String kind) {
    for (TensorSpec s : specs) {
      var op = g.operation(dev.tftrt.model.TensorNames.node(s.tensor()));
      if (op == null || dev.tftrt.model.TensorNames.index(s.tensor()) >= op.numOutputs()) {
        throw new TftrtException(dir.resolve(ConvertedModel.MANIFEST) + " names tensor '" + s.tensor() + "' for "
            + kind + " '" + s.key() + "', which the converted graph does not have.");
      }
    }
  }

  private static GraphDef readGraph(Path dir) {
    Path pb = ConvertedModel.file(dir, "saved_model.pb", "the graph");
    if (!Files.exists(pb)) throw new TftrtException(dir + " is missing its saved_model.pb.");
    try {
      SavedModel sm = SavedModel.parseFrom(GraphDefs.readBytes(pb));
      if (sm.getMetaGraphsCount() == 0) throw new TftrtException(pb + " holds no graph.");
      return sm.getMetaGraphs(0).getGraphDef();
    } catch (InvalidProtocolBufferException e) {
      throw new TftrtException(pb + " is truncated or corrupt: it could not be parsed as a SavedModel.");
    }
  }

  public Path path() {
    return dir;
  }

  /** How messages name this model (its folder, unless loaded with another name). */
  public String shownAs() {
    return shown;
  }

  public List<TensorSpec> inputs() {
    return inputs;
  }

  public List<TensorSpec> outputs() {
    return outputs;
  }

  /** Engine node → the backend serving it. */
  public Map<String, String> backends() {
    return Map.copyOf(backends);
  }

  /**
   * Runs the model. Inputs and outputs are keyed by the signature's names; the caller closes
   * the returned Result (which closes its tensors). Thread-safe.
   */
  public Result call(Map<String, Tensor> feeds) {
    checkOpen();
    Session.Runner r;
    try {
      r = session.runner();
    } catch (IllegalStateException e) {
      throw closedError(e); // closed by another thread just now
    }
    for (TensorSpec in : inputs) {
      Tensor t = feeds.get(in.key());
      if (t == null) throw new TftrtException("input '" + in.key() + "' of " + shown + " was not given.");
      if (t.dataType() != in.dtype()) {
        throw new TftrtException("input '" + in.key() + "' of " + shown + " takes "
            + dev.tftrt.tensor.DTypes.name(in.dtype()) + ", but " + dev.tftrt.tensor.DTypes.name(t.dataType())
            + " was given.");
      }
      r.feed(in.tensor(), t);
    }
    for (String k : feeds.keySet()) {
      if (inputs.stream().noneMatch(s -> s.key().equals(k))) {
        throw new TftrtException(shown + " has no input '" + k + "'.");
      }
    }
    checkShapes(feeds);
    for (TensorSpec out : outputs) r.fetch(out.tensor());
    try {
      return r.run();
    } catch (IllegalStateException e) {
      if (closed) throw closedError(e);
      throw e;
    } catch (TensorFlowException | IllegalArgumentException e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
      int nl = m.indexOf('\n');
      throw new TftrtException(shown + " failed to run: " + (nl > 0 ? m.substring(0, nl) : m), e);
    }
  }

  /** Each set of feed shapes once: TensorFlow's shape inference must accept it (see FeedShapes). */
  private void checkShapes(Map<String, Tensor> feeds) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (TensorSpec in : inputs) shapes.put(in.key(), feeds.get(in.key()).shape().asArray());
    String key = Feeds.shapesKey(shapes);
    if (checkedShapes.contains(key)) return;
    FeedShapes.check(shapeGraph, inputs, shapes, shown, Feeds.shapeHint(inputs));
    if (checkedShapes.size() < 64) checkedShapes.add(key);
  }

  /** Runs on host tensors (copies in and out), checking dtypes and shapes first. */
  public Map<String, HostTensor> run(Map<String, HostTensor> feeds) {
    checkOpen();
    Feeds.check(inputs, feeds, shown);
    Map<String, Tensor> tf = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) tf.put(e.getKey(), e.getValue().toTensor());
      Map<String, HostTensor> out = new LinkedHashMap<>();
      try (Result r = call(tf)) {
        for (int i = 0; i < outputs.size(); i++) out.put(outputs.get(i).key(), HostTensor.fromTensor(r.get(i)));
      }
      return out;
    } finally {
      for (Tensor t : tf.values()) t.close();
    }
  }

  private void checkOpen() {
    if (closed) throw closedError(null);
  }

  private TftrtException closedError(RuntimeException cause) {
    return new TftrtException("the model loaded from " + dir + " is closed: load it again to call it.", cause);
  }

  /** Releases the session, graph and backends; calls afterwards fail with one sentence. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    session.close();
    graph.close();
    releaseBackends();
  }

  private void releaseBackends() {
    for (EngineRegistry.Registration r : registrations) r.close();
    registrations.clear();
    for (EngineBackend b : owned) {
      try {
        b.close();
      } catch (Exception ignored) {
        // closing a backend that failed half-way: nothing more to do
      }
    }
    owned.clear();
  }
}
