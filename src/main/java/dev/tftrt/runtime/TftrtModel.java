package dev.tftrt.runtime;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tftrt.TftrtException;
import dev.tftrt.model.GraphDefs;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.backend.Backend;
import dev.tftrt.runtime.backend.Backends;
import dev.tftrt.runtime.ort.OrtOptions;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.Payloads;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.ConfigProto;
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
 *   try (Outputs out = m.call(Map.of("image", imageTensor))) {
 *     TFloat32 p = out.get("probabilities", TFloat32.class);
 *   }
 * }
 * </pre>
 */
public final class TftrtModel implements AutoCloseable {
  private static final AtomicLong LOADS = new AtomicLong();

  /**
   * How a model is loaded: {@code backend} for every engine (null: each engine node's own choice,
   * made at convert time), TensorFlow's session config (null: TensorFlow's defaults), and how
   * the onnxruntime backend runs (see {@link OrtOptions}: one thread pool shared by every engine
   * of the process by default), and whether the tensorrt backend may build an engine that no
   * cache holds for this GPU ({@code allowBuildAtRuntime}, the CLI's {@code
   * --[no-]allow-build-at-runtime}; null: the process's setting, on unless changed).
   */
  public record Options(Backend backend, ConfigProto sessionConfig, OrtOptions ort, Boolean allowBuildAtRuntime) {
    public Options {
      java.util.Objects.requireNonNull(ort, "ort");
    }

    public Options(Backend backend, ConfigProto sessionConfig, OrtOptions ort) {
      this(backend, sessionConfig, ort, null);
    }

    public static Options defaults() {
      return new Options(null, null, OrtOptions.defaults(), null);
    }

    public Options withBackend(Backend b) {
      return new Options(b, sessionConfig, ort, allowBuildAtRuntime);
    }

    public Options withSessionConfig(ConfigProto config) {
      return new Options(backend, config, ort, allowBuildAtRuntime);
    }

    public Options withOrt(OrtOptions o) {
      return new Options(backend, sessionConfig, o, allowBuildAtRuntime);
    }

    /** Whether a missing TensorRT engine is built at load (null: the process's setting). */
    public Options withAllowBuildAtRuntime(Boolean allow) {
      return new Options(backend, sessionConfig, ort, allow);
    }
  }

  private final Path dir;
  private final String shown; // how messages name the model: its folder, or what it will become
  private final ConvertedModel.Manifest manifest;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final Map<String, String> backends = new LinkedHashMap<>();
  /** Each output tensor once, in the signature's order: two outputs may name one tensor. */
  private final List<String> fetches;
  private final List<EngineBackend> owned = new ArrayList<>();
  private final List<EngineRegistry.Registration> registrations = new ArrayList<>();
  private final Graph graph;
  private final Session session;
  private volatile boolean closed;
  /** The graph as imported, engine payloads left out: what feed shapes are checked against. */
  private final GraphDef shapeGraph;
  private final java.util.Set<String> checkedShapes = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private TftrtModel(Path dir, Options options, String shown) {
    this.dir = dir;
    this.shown = shown;
    this.manifest = ConvertedModel.readManifest(dir);
    this.inputs = manifest.inputSpecs(dir);
    this.outputs = manifest.outputSpecs(dir);
    this.fetches = outputs.stream().map(TensorSpec::tensor).distinct().toList();
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
        listed.remove(n.getName());
        EngineBackend backend;
        try {
          backend = Backends.create(withPayloads(dir, manifest, node, options.backend(), shown), options.backend(),
              options.ort(), dir, options.allowBuildAtRuntime());
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
        // Payload attributes cleared before import: TensorFlow's graph and each kernel's NodeDef stay small.
        b.setNode(i, EngineNode.withoutPayloads(n).toBuilder().putAttr(EngineNode.ATTR_KEY, AttrValue.newBuilder()
            .setS(com.google.protobuf.ByteString.copyFromUtf8(key)).build()));
      }
      if (!listed.isEmpty()) {
        throw new TftrtException(dir.resolve(ConvertedModel.MANIFEST) + " lists engine '" + listed.iterator().next()
            + "', which the converted graph does not have.");
      }
      GraphDef keyed = b.build();
      gr = TfModel.importGraph(keyed, shown);
      this.shapeGraph = keyed; // engine nodes carry no payloads: nothing to leave out
      checkTensors(gr, dir, inputs, "input");
      checkTensors(gr, dir, outputs, "output");
      this.graph = gr;
      this.session = options.sessionConfig() == null ? new Session(gr) : new Session(gr, options.sessionConfig());
    } catch (RuntimeException e) {
      if (gr != null) gr.close();
      releaseBackends();
      throw e;
    }
  }

  /** Loads with each engine node's own backend choice (set at convert time) and the default options. */
  public static TftrtModel load(Path dir) {
    return load(dir, Options.defaults());
  }

  /** Loads with every engine node on one backend (null: each node's own), other options default. */
  public static TftrtModel load(Path dir, Backend backend) {
    return load(dir, Options.defaults().withBackend(backend));
  }

  public static TftrtModel load(Path dir, Options options) {
    return load(dir, options, dir.toString());
  }

  /**
   * As {@link #load(Path, Options)}, with messages naming the model as shownAs: a folder being
   * verified before it is moved into place is named after the user's target, not its temporary name.
   */
  public static TftrtModel load(Path dir, Options options, String shownAs) {
    if (!Files.isDirectory(dir)) throw new TftrtException(dir + " does not exist or is not a folder.");
    if (!ConvertedModel.isConverted(dir)) {
      throw new TftrtException(dir + " is not a converted model: it has no " + ConvertedModel.MANIFEST + ".");
    }
    return new TftrtModel(dir, options == null ? Options.defaults() : options, shownAs);
  }

  private static EngineNode engineNode(NodeDef n) {
    try {
      return EngineNode.fromNodeDef(n);
    } catch (RuntimeException e) {
      throw new TftrtException("engine node '" + n.getName() + "' is damaged: " + e.getMessage(), e);
    }
  }

  /**
   * The node with the payload its backend needs, read from the folder (format 2 keeps payloads
   * as files, checked against their SHA-256 here): the ONNX model for onnxruntime (and auto), the
   * original segment for tensorflow (or auto when there is no ONNX). The bytes live only until the
   * backend has loaded them. Every engine node must be listed: an entry removed from the manifest
   * must not mean "unchecked".
   */
  private static EngineNode withPayloads(Path dir, ConvertedModel.Manifest manifest, EngineNode node,
      Backend override, String shown) {
    if (Payloads.list(manifest, node.name()).isEmpty()) {
      throw new TftrtException("engine node '" + node.name() + "' of " + dir + " is not listed in its "
          + ConvertedModel.MANIFEST + ", so it cannot be checked: convert the model again.");
    }
    Backend requested = override != null ? override : Backend.parse(node.backend());
    var onnx = Payloads.find(manifest, node.name(), Payloads.ONNX);
    var segment = Payloads.find(manifest, node.name(), Payloads.TF_SEGMENT);
    EngineNode.Builder b = node.withoutPayloads().toBuilder();
    boolean wantsSegment = requested == Backend.TENSORFLOW || (requested == Backend.AUTO && onnx.isEmpty());
    if (wantsSegment) {
      if (segment.isEmpty()) {
        throw new TftrtException("engine node '" + node.name() + "' of " + shown + " cannot run on the tensorflow"
            + " backend: its original segment was not kept; convert the model again with --fallback tensorflow.");
      }
      b.segment(com.google.protobuf.UnsafeByteOperations.unsafeWrap(Payloads.read(dir, node.name(), segment.get())));
    } else if (onnx.isPresent()) { // the tensorrt backend builds its engines from the ONNX too
      b.onnx(com.google.protobuf.UnsafeByteOperations.unsafeWrap(Payloads.read(dir, node.name(), onnx.get())));
    }
    return b.build();
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
   * the returned {@link Outputs} (which closes its tensors). Thread-safe.
   */
  public Outputs call(Map<String, Tensor> feeds) {
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
    for (String t : fetches) r.fetch(t);
    try {
      return new Outputs(r.run(), fetches, outputs, shown);
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
      try (Outputs r = call(tf)) {
        for (int i = 0; i < r.size(); i++) out.put(r.names().get(i), HostTensor.fromTensor(r.get(i)));
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
