package dev.tftrt.model;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import dev.tftrt.TftrtException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TString;

/**
 * A TensorFlow model opened for use: its graph (as TensorFlow holds it and as a GraphDef), a
 * session with the variables restored, and the inputs and outputs it is called through.
 */
public final class TfModel implements AutoCloseable {
  private final Path path;
  private final ModelFormat format;
  private final GraphDef graphDef;
  private final Graph graph;
  private final Session session;
  private final SavedModelBundle bundle; // owns graph and session for SavedModels
  private final String signature;
  private final List<String> tags;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final Map<String, dev.tftrt.tensor.HostTensor> bound;
  private Path scratch; // a SavedModel's unpinned stand-in, removed on close

  private TfModel(Path path, ModelFormat format, GraphDef graphDef, Graph graph, Session session,
      SavedModelBundle bundle, String signature, List<String> tags, List<TensorSpec> inputs,
      List<TensorSpec> outputs) {
    this(path, format, graphDef, graph, session, bundle, signature, tags,
        new Bindings.Result(inputs, Map.of()), outputs);
  }

  private TfModel(Path path, ModelFormat format, GraphDef graphDef, Graph graph, Session session,
      SavedModelBundle bundle, String signature, List<String> tags, Bindings.Result inputs,
      List<TensorSpec> outputs) {
    this.path = path;
    this.format = format;
    this.graphDef = graphDef;
    this.graph = graph;
    this.session = session;
    this.bundle = bundle;
    this.signature = signature;
    this.tags = tags;
    this.inputs = List.copyOf(inputs.inputs());
    this.outputs = List.copyOf(outputs);
    this.bound = Map.copyOf(inputs.bound());
  }

  public static TfModel load(LoadOptions o) {
    return load(o, null);
  }

  /** As {@link #load(LoadOptions)}, with the session configured (null: TensorFlow's defaults). */
  public static TfModel load(LoadOptions o, ConfigProto config) {
    ModelFormat f = ModelFormat.detect(o.path());
    switch (f) {
      case SAVED_MODEL: return loadSavedModel(o, config);
      case META_CHECKPOINT: return loadMetaCheckpoint(o, config);
      default: return loadGraphDef(o, f, config);
    }
  }

  /**
   * Session settings under which two graphs that compute the same thing give the same bits:
   * TensorFlow's graph optimizer (Grappler) off. With it on, a frozen graph is rewritten more
   * (constants fold into filters, MatMul+BiasAdd+Relu fuse) than the function bodies of the
   * SavedModel it came from, and rounding differs in the last bits.
   */
  public static ConfigProto exactConfig() {
    return ConfigProto.newBuilder().setGraphOptions(GraphOptions.newBuilder()
        .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true))).build();
  }

  /** A model over an in-memory GraphDef with known inputs and outputs (no variables). */
  public static TfModel fromGraphDef(GraphDef g, String description, List<TensorSpec> inputs,
      List<TensorSpec> outputs) {
    return fromGraphDef(g, description, inputs, outputs, null);
  }

  public static TfModel fromGraphDef(GraphDef g, String description, List<TensorSpec> inputs,
      List<TensorSpec> outputs, ConfigProto config) {
    Graph graph = importGraph(g, description);
    return new TfModel(Path.of(description), ModelFormat.GRAPHDEF, g, graph, session(graph, config),
        null, null, List.of(), inputs, outputs);
  }

  private static Session session(Graph graph, ConfigProto config) {
    return new Session(graph, placeable(config));
  }

  /** The config with soft placement on: nothing a model was exported with may pin it to a device. */
  static ConfigProto placeable(ConfigProto config) {
    return (config == null ? ConfigProto.newBuilder() : config.toBuilder()).setAllowSoftPlacement(true).build();
  }

  public Path path() {
    return path;
  }

  public ModelFormat format() {
    return format;
  }

  /** The graph as loaded: for a SavedModel or .meta file, its MetaGraph's graph_def. */
  public GraphDef graphDef() {
    return graphDef;
  }

  public Graph graph() {
    return graph;
  }

  public Session session() {
    return session;
  }

  /** The signature key in use, or null for graphs without one. */
  public String signature() {
    return signature;
  }

  public List<String> tags() {
    return tags;
  }

  public List<TensorSpec> inputs() {
    return inputs;
  }

  public List<TensorSpec> outputs() {
    return outputs;
  }

  /** Tensors bound to values with --set ("node:0" → value): no longer inputs, fed on every run, frozen as constants. */
  public Map<String, dev.tftrt.tensor.HostTensor> bound() {
    return bound;
  }

  @Override
  public void close() {
    if (bundle != null) {
      bundle.close();
      UnpinnedSavedModel.delete(scratch);
    } else {
      session.close();
      graph.close();
    }
  }

  // ---- SavedModel ----

  private static TfModel loadSavedModel(LoadOptions o, ConfigProto config) {
    Path dir = ModelFormat.savedModelDir(o.path());
    if (Files.isRegularFile(dir.resolve("tftrt.json"))) {
      throw new TftrtException(dir + " is already a converted model: run it as it is, or start again from its frozen.pb.");
    }
    SavedModel sm = readSavedModel(dir);
    MetaGraphDef meta = chooseMetaGraph(sm, dir, o.tags());
    List<String> tags = meta.getMetaInfoDef().getTagsList();
    boolean hasVariables = hasVariables(meta.getGraphDef());
    if (hasVariables && !Files.isRegularFile(dir.resolve("variables/variables.index"))) {
      throw new TftrtException("SavedModel " + dir + " has variables but no variables/variables.index to restore them from.");
    }
    checkVariableFiles(dir.resolve("variables"));
    GraphChecks.check(meta.getGraphDef(), dir.toString());
    GraphDef graphDef = Normalizer.normalize(meta.getGraphDef());
    // TensorFlow's loader reads saved_model.pb itself: a pinned model is given to it unpinned.
    Path scratch = Normalizer.hasDevices(meta.getGraphDef()) ? UnpinnedSavedModel.write(dir, sm) : null;
    Path loadFrom = scratch != null ? scratch : dir;
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(loadFrom.toString()).withTags(tags.toArray(new String[0]))
          .withConfigProto(placeable(config)).load();
    } catch (TensorFlowException | IllegalArgumentException e) {
      UnpinnedSavedModel.delete(scratch);
      throw new TftrtException("SavedModel " + dir + " could not be loaded: "
          + firstLine(e).replace(loadFrom.toString(), dir.toString()) + ".", e);
    } catch (IndexOutOfBoundsException e) {
      // TensorFlow Java checks every signature at load; "node:9" of a one-output node ends up here.
      UnpinnedSavedModel.delete(scratch);
      throw new TftrtException("SavedModel " + dir + " could not be loaded: a signature names a tensor its node"
          + " does not have (" + firstLine(e) + ").", e);
    }
    try {
      Map<String, SignatureDef> sigs = meta.getSignatureDefMap();
      String key = null;
      List<TensorSpec> ins;
      List<TensorSpec> outs;
      if (o.outputs().isEmpty() || o.signature() != null) {
        key = chooseSignature(sigs, "SavedModel " + dir, o.signature(), o.outputs().isEmpty());
      }
      if (key != null) {
        ins = specs(sigs.get(key).getInputsMap());
        outs = specs(sigs.get(key).getOutputsMap());
        checkInGraph(bundle.graph(), ins, "input", key, dir);
        checkInGraph(bundle.graph(), outs, "output", key, dir);
      } else {
        ins = List.of();
        outs = List.of();
      }
      if (!o.outputs().isEmpty()) {
        outs = namedTensors(bundle.graph(), o.outputs(), "SavedModel " + dir, "--outputs");
        if (key == null) ins = placeholdersFeeding(graphDef, bundle.graph(), outs);
      }
      ins = cutInputs(bundle.graph(), o, ins, "SavedModel " + dir);
      TfModel m = new TfModel(dir, ModelFormat.SAVED_MODEL, graphDef, bundle.graph(),
          bundle.session(), bundle, key, tags, Bindings.apply(bundle.graph(), ins, o.bindings(), "SavedModel " + dir), outs);
      m.scratch = scratch;
      return m;
    } catch (RuntimeException e) {
      bundle.close();
      UnpinnedSavedModel.delete(scratch);
      throw e;
    }
  }

  static SavedModel readSavedModel(Path dir) {
    Path pb = dir.resolve("saved_model.pb");
    SavedModel sm;
    if (Files.isRegularFile(pb)) {
      byte[] bytes = GraphDefs.readBytes(pb);
      if (bytes.length == 0) {
        throw new TftrtException(pb + " is empty, not a SavedModel.");
      }
      try {
        sm = SavedModel.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        throw new TftrtException(pb + " is truncated or corrupt: it could not be parsed as a SavedModel.");
      }
    } else {
      Path txt = dir.resolve("saved_model.pbtxt");
      try {
        SavedModel.Builder b = SavedModel.newBuilder();
        GraphDefs.mergeText(new String(GraphDefs.readBytes(txt), StandardCharsets.UTF_8), b, txt);
        sm = b.build();
      } catch (TextFormat.ParseException e) {
        throw new TftrtException(txt + " is not a SavedModel in text format: it could not be parsed.");
      }
    }
    if (sm.getMetaGraphsCount() == 0 || sm.getMetaGraphs(0).getGraphDef().getNodeCount() == 0) {
      throw new TftrtException(dir.resolve("saved_model.pb") + " is not a SavedModel: it holds no graph.");
    }
    return sm;
  }

  /** TensorFlow reads the variables itself; a FIFO among them would block it forever. */
  private static void checkVariableFiles(Path variables) {
    if (!Files.isDirectory(variables)) return;
    try (var files = Files.list(variables)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!Files.isDirectory(f)) dev.tftrt.util.InputFiles.checkRegular(f);
      }
    } catch (java.io.IOException e) {
      throw new TftrtException(variables + " could not be listed.", e);
    }
  }

  private static MetaGraphDef chooseMetaGraph(SavedModel sm, Path dir, List<String> tags) {
    List<String> available = new ArrayList<>();
    for (MetaGraphDef m : sm.getMetaGraphsList()) {
      List<String> t = m.getMetaInfoDef().getTagsList();
      available.add(String.join(",", t));
      if (tags.isEmpty() ? t.contains("serve") : new HashSet<>(t).equals(new HashSet<>(tags))) {
        return m;
      }
    }
    if (tags.isEmpty() && sm.getMetaGraphsCount() == 1) return sm.getMetaGraphs(0);
    String wanted = tags.isEmpty() ? "serve" : String.join(",", tags);
    throw new TftrtException("SavedModel " + dir + " has no MetaGraph tagged '" + wanted
        + "'; its tag sets are: " + String.join("; ", available) + ".");
  }

  /**
   * The signature to use: the one asked for, else serving_default, else the only one. Returns
   * null when there are none and none is required.
   */
  static String chooseSignature(Map<String, SignatureDef> sigs, String what, String wanted,
      boolean required) {
    Set<String> usable = new TreeSet<>(sigs.keySet());
    usable.remove("__saved_model_init_op");
    if (wanted != null) {
      if (usable.contains(wanted)) return wanted;
      throw new TftrtException(what + " has no signature '" + wanted + "'; "
          + (usable.isEmpty() ? "it has none." : "it has: " + String.join(", ", usable) + "."));
    }
    if (usable.contains("serving_default")) return "serving_default";
    if (usable.size() == 1) return usable.iterator().next();
    if (!required) return null;
    if (usable.isEmpty()) {
      throw new TftrtException(what + " has no signatures: name the outputs with --outputs.");
    }
    throw new TftrtException(what + " has several signatures and none is serving_default: choose one with --signature ("
        + String.join(", ", usable) + ").");
  }

  private static List<TensorSpec> specs(Map<String, TensorInfo> infos) {
    List<TensorSpec> r = new ArrayList<>();
    for (Map.Entry<String, TensorInfo> e : new java.util.TreeMap<>(infos).entrySet()) {
      TensorInfo ti = e.getValue();
      if (ti.getName().isEmpty()) {
        throw new TftrtException("signature entry '" + e.getKey() + "' is not a dense tensor, which tftrt does not support.");
      }
      r.add(new TensorSpec(e.getKey(), TensorNames.canonical(ti.getName()), ti.getDtype(),
          shapeOf(ti.getTensorShape())));
    }
    return r;
  }

  /** TensorFlow Java checks signature inputs at load but not outputs: a bad one would be frozen into the sidecar. */
  private static void checkInGraph(Graph graph, List<TensorSpec> specs, String kind, String key, Path dir) {
    for (TensorSpec t : specs) {
      String node = TensorNames.node(t.tensor());
      GraphOperation op = graph.operation(node);
      String where = "SavedModel " + dir + ": signature '" + key + "' maps " + kind + " '" + t.key() + "' to '"
          + t.tensor() + "', but ";
      if (op == null) throw new TftrtException(where + "its graph has no node '" + node + "'.");
      if (TensorNames.index(t.tensor()) >= op.numOutputs()) {
        throw new TftrtException(where + "node '" + node + "' has " + op.numOutputs() + " output(s).");
      }
    }
  }

  private static long[] shapeOf(TensorShapeProto s) {
    if (s.getUnknownRank()) return null;
    long[] d = new long[s.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = s.getDim(i).getSize() < 0 ? -1 : s.getDim(i).getSize();
    return d;
  }

  // ---- .meta + checkpoint ----

  private static TfModel loadMetaCheckpoint(LoadOptions o, ConfigProto config) {
    Path metaFile = o.path();
    MetaGraphDef meta;
    byte[] bytes = GraphDefs.readBytes(metaFile);
    try {
      meta = MetaGraphDef.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new TftrtException(metaFile + " is truncated or corrupt: it could not be parsed as a MetaGraphDef.");
    }
    if (bytes.length == 0 || meta.getGraphDef().getNodeCount() == 0) {
      throw new TftrtException(metaFile + " is not a MetaGraphDef: it holds no graph.");
    }
    GraphDef graphDef = Normalizer.normalize(meta.getGraphDef());
    Graph graph = importGraph(graphDef, metaFile.toString());
    Session session = session(graph, config);
    try {
      if (hasVariables(meta.getGraphDef())) {
        String prefix = checkpointPrefix(metaFile, o.checkpoint());
        if (!meta.hasSaverDef() || meta.getSaverDef().getRestoreOpName().isEmpty()) {
          throw new TftrtException(metaFile + " has variables but no saver to restore them with.");
        }
        try (TString p = TString.scalarOf(prefix)) {
          session.runner().feed(meta.getSaverDef().getFilenameTensorName(), p)
              .addTarget(meta.getSaverDef().getRestoreOpName()).run();
        } catch (TensorFlowException | IllegalArgumentException e) {
          throw new TftrtException("checkpoint " + prefix + " could not be restored: " + firstLine(e) + ".", e);
        }
      }
      Map<String, SignatureDef> sigs = meta.getSignatureDefMap();
      String key = o.outputs().isEmpty() || o.signature() != null
          ? chooseSignature(sigs, metaFile.toString(), o.signature(), o.outputs().isEmpty()) : null;
      List<TensorSpec> ins = key == null ? List.of() : specs(sigs.get(key).getInputsMap());
      List<TensorSpec> outs = key == null ? List.of() : specs(sigs.get(key).getOutputsMap());
      if (!o.outputs().isEmpty()) {
        outs = namedTensors(graph, o.outputs(), metaFile.toString(), "--outputs");
        if (key == null) ins = placeholdersFeeding(graphDef, graph, outs);
      }
      ins = cutInputs(graph, o, ins, metaFile.toString());
      return new TfModel(metaFile, ModelFormat.META_CHECKPOINT, graphDef, graph, session,
          null, key, meta.getMetaInfoDef().getTagsList(), Bindings.apply(graph, ins, o.bindings(), metaFile.toString()), outs);
    } catch (RuntimeException e) {
      session.close();
      graph.close();
      throw e;
    }
  }

  /** The checkpoint prefix for a .meta file: --checkpoint, the file's own stem, or the "checkpoint" index file's. */
  static String checkpointPrefix(Path metaFile, Path given) {
    if (given != null) {
      String g = given.toString();
      if (g.endsWith(".index")) g = g.substring(0, g.length() - 6);
      if (!Files.isRegularFile(Path.of(g + ".index"))) {
        throw new TftrtException("checkpoint " + g + " has no index file " + g + ".index.");
      }
      return g;
    }
    String name = metaFile.getFileName().toString();
    Path stem = metaFile.resolveSibling(name.substring(0, name.length() - ".meta".length()));
    if (Files.isRegularFile(Path.of(stem + ".index"))) return stem.toString();
    Path index = metaFile.resolveSibling("checkpoint");
    if (Files.isRegularFile(index)) {
      for (String line : new String(GraphDefs.readBytes(index), StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("model_checkpoint_path:")) {
          String p = line.substring(line.indexOf('"') + 1, line.lastIndexOf('"'));
          Path prefix = metaFile.resolveSibling(p);
          if (Files.isRegularFile(Path.of(prefix + ".index"))) return prefix.toString();
        }
      }
    }
    throw new TftrtException(metaFile + " has variables but no checkpoint beside it (expected " + stem
        + ".index): give one with --checkpoint.");
  }

  // ---- GraphDef ----

  private static TfModel loadGraphDef(LoadOptions o, ModelFormat f, ConfigProto config) {
    GraphDef g = Normalizer.normalize(GraphDefs.read(o.path(), f == ModelFormat.GRAPHDEF_TEXT));
    if (hasVariables(g)) {
      throw new TftrtException(o.path() + " is a GraphDef with variables but no checkpoint: freeze it from its SavedModel or .meta file.");
    }
    Graph graph = importGraph(g, o.path().toString());
    try {
      List<TensorSpec> ins;
      List<TensorSpec> outs;
      Sidecar side = Sidecar.readBeside(o.path());
      if (!o.outputs().isEmpty()) {
        outs = namedTensors(graph, o.outputs(), o.path().toString(), "--outputs");
        ins = placeholdersFeeding(g, graph, outs);
      } else if (side != null) {
        ins = side.inputSpecs(Sidecar.pathFor(o.path()));
        outs = side.outputSpecs(Sidecar.pathFor(o.path()));
      } else {
        outs = sinkOutputs(g, graph);
        if (outs.isEmpty()) {
          throw new TftrtException(o.path() + " has no node that could be an output: name the outputs with --outputs.");
        }
        ins = placeholdersFeeding(g, graph, outs);
      }
      ins = cutInputs(graph, o, ins, o.path().toString());
      Bindings.Result bound = Bindings.apply(graph, ins, o.bindings(), o.path().toString());
      return new TfModel(o.path(), f, g, graph, session(graph, config), null,
          side != null ? side.signature() : null, List.of(), bound, outs);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** Imports g into a new Graph after checking it (see {@link GraphChecks}); what names it. */
  public static Graph importGraph(GraphDef g, String what) {
    GraphChecks.check(g, what);
    Graph graph = new Graph();
    try {
      graph.importGraphDef(g);
      GraphChecks.checkInferredSizes(graph, what);
    } catch (IllegalArgumentException | TensorFlowException e) {
      graph.close();
      throw new TftrtException(what + " could not be imported into TensorFlow: " + firstLine(e) + ".", e);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
    return graph;
  }

  static boolean hasVariables(GraphDef g) {
    for (NodeDef n : g.getNodeList()) {
      if (isVariable(n.getOp())) return true;
    }
    return false;
  }

  public static boolean isVariable(String op) {
    return op.equals("VariableV2") || op.equals("Variable") || op.equals("VarHandleOp");
  }

  /** --inputs replaces the inputs: the graph is fed (and later cut) at those tensors. */
  private static List<TensorSpec> cutInputs(Graph graph, LoadOptions o, List<TensorSpec> ins, String what) {
    return o.inputs().isEmpty() ? ins : namedTensors(graph, o.inputs(), what, "--inputs");
  }

  /** Specs for tensor names given by the user with option (--inputs, --outputs), checked against the graph. */
  static List<TensorSpec> namedTensors(Graph graph, List<String> names, String what, String option) {
    List<TensorSpec> r = new ArrayList<>();
    for (String name : names) {
      String node = TensorNames.node(name);
      GraphOperation op = graph.operation(node);
      if (op == null) {
        throw new TftrtException(option + " names '" + name + "', but " + what + " has no node '" + node + "'.");
      }
      int idx = TensorNames.index(name);
      if (idx >= op.numOutputs()) {
        throw new TftrtException(option + " names '" + name + "', but node '" + node + "' has "
            + op.numOutputs() + " output(s).");
      }
      r.add(specOf(graph, TensorNames.canonical(name), name));
    }
    return r;
  }

  static TensorSpec specOf(Graph graph, String tensor, String key) {
    Output<?> out = graph.operation(TensorNames.node(tensor)).output(TensorNames.index(tensor));
    long[] shape = out.shape().isUnknown() ? null : out.shape().asArray();
    DataType dt = out.dataType();
    return new TensorSpec(key, tensor, dt, shape);
  }

  /** The Placeholders that the given outputs depend on, in graph order. */
  static List<TensorSpec> placeholdersFeeding(GraphDef g, Graph graph, List<TensorSpec> outs) {
    Map<String, NodeDef> byName = new LinkedHashMap<>();
    for (NodeDef n : g.getNodeList()) byName.put(n.getName(), n);
    Set<String> needed = new HashSet<>();
    List<String> stack = new ArrayList<>();
    for (TensorSpec s : outs) stack.add(TensorNames.node(s.tensor()));
    while (!stack.isEmpty()) {
      String n = stack.remove(stack.size() - 1);
      if (!needed.add(n) || !byName.containsKey(n)) continue;
      for (String in : byName.get(n).getInputList()) stack.add(TensorNames.node(in));
    }
    List<TensorSpec> r = new ArrayList<>();
    for (NodeDef n : g.getNodeList()) {
      if (needed.contains(n.getName()) && (n.getOp().equals("Placeholder") || n.getOp().equals("PlaceholderV2"))) {
        String t = n.getName() + ":0";
        r.add(specOf(graph, t, n.getName()));
      }
    }
    return r;
  }

  /** Outputs of nodes nothing consumes (a frozen graph's usual outputs). */
  static List<TensorSpec> sinkOutputs(GraphDef g, Graph graph) {
    Set<String> consumed = new HashSet<>();
    for (NodeDef n : g.getNodeList()) {
      for (String in : n.getInputList()) consumed.add(TensorNames.node(in));
    }
    List<TensorSpec> r = new ArrayList<>();
    for (NodeDef n : g.getNodeList()) {
      if (consumed.contains(n.getName())) continue;
      String op = n.getOp();
      if (op.equals("Const") || op.startsWith("Placeholder") || op.equals("NoOp")) continue;
      GraphOperation o = graph.operation(n.getName());
      for (int i = 0; i < o.numOutputs(); i++) {
        String t = n.getName() + ":" + i;
        r.add(specOf(graph, t, o.numOutputs() == 1 ? n.getName() : t));
      }
    }
    return r;
  }

  static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? "TensorFlow gave no reason" : e.getMessage().strip();
    // TensorFlow prefixes errors raised inside functions with "{{function_node NAME}}" markers.
    m = m.replaceAll("\\{\\{function_node [^}]*\\}\\}\\s*", "").strip();
    int nl = m.indexOf('\n');
    if (nl > 0) m = m.substring(0, nl).strip();
    while (m.endsWith(".")) m = m.substring(0, m.length() - 1);
    return m;
  }
}
