package dev.tftrt.runtime.engine;

import com.google.protobuf.ByteString;
import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * One {@code TftrtEngine} node: what the native op's attributes say, read from a NodeDef
 * ({@link #fromNodeDef}) or built for splicing into a GraphDef ({@link #builder}, {@link
 * #toNodeDef}). Immutable.
 *
 * <p>The op's attributes: {@code Tin}, {@code Tout} (dtypes), {@code shapes} (one per output:
 * known dims, -1 unknown, or unknown rank; TensorFlow's shape inference gives the outputs these
 * shapes), {@code onnx} (the segment's ONNX model), {@code engine} and {@code cache_key} (a
 * serialized TensorRT engine and what it was built for; empty until built), {@code precision},
 * {@code backend} (the converter's choice), {@code segment} (the original segment as a GraphDef,
 * for the TensorFlow fallback), {@code key} (the name its backend is registered under in {@link
 * EngineRegistry}; empty means the node's name) and {@code version}.
 */
public final class EngineNode {
  /** The op's type name in a GraphDef. */
  public static final String OP = "TftrtEngine";
  /** The attribute layout this code writes and the newest it reads. */
  public static final int VERSION = 1;

  public static final String ATTR_TIN = "Tin";
  public static final String ATTR_TOUT = "Tout";
  /** Output shapes; TensorFlow's {@code ExplicitShapes} shape function reads it by this name. */
  public static final String ATTR_SHAPES = "shapes";
  public static final String ATTR_ONNX = "onnx";
  public static final String ATTR_ENGINE = "engine";
  public static final String ATTR_CACHE_KEY = "cache_key";
  public static final String ATTR_PRECISION = "precision";
  public static final String ATTR_BACKEND = "backend";
  public static final String ATTR_SEGMENT = "segment";
  public static final String ATTR_KEY = "key";
  public static final String ATTR_VERSION = "version";
  /**
   * The attributes that can hold a payload. A converted folder (format 2) keeps payloads as files
   * and its nodes leave these empty; a loader clears them anyway before import, so TensorFlow's
   * graph and every kernel construction (whose NodeDef crosses JNI) hold a node of a few hundred bytes.
   */
  public static final List<String> PAYLOAD_ATTRS = List.of(ATTR_ONNX, ATTR_SEGMENT, ATTR_ENGINE);

  /** def without its payload attributes (see {@link #PAYLOAD_ATTRS}); def itself when it has none. */
  public static NodeDef withoutPayloads(NodeDef def) {
    if (PAYLOAD_ATTRS.stream().noneMatch(def.getAttrMap()::containsKey)) return def;
    NodeDef.Builder b = def.toBuilder();
    for (String a : PAYLOAD_ATTRS) b.removeAttr(a);
    return b.build();
  }

  private final String name;
  private final String device;
  private final List<String> inputs; // NodeDef inputs: "node:i" data inputs, then "^node" controls
  private final List<DataType> inputTypes;
  private final List<DataType> outputTypes;
  private final List<long[]> outputShapes; // null entry: unknown rank
  private final ByteString onnx;
  private final ByteString engine;
  private final String cacheKey;
  private final String precision;
  private final String backend;
  private final ByteString segment;
  private final String key;
  private final long version;

  private EngineNode(Builder b) {
    this.name = b.name;
    this.device = b.device;
    List<String> in = new ArrayList<>(b.dataInputs);
    in.addAll(b.controlInputs);
    this.inputs = List.copyOf(in);
    this.inputTypes = List.copyOf(b.inputTypes);
    this.outputTypes = List.copyOf(b.outputTypes);
    List<long[]> shapes = new ArrayList<>();
    for (long[] s : b.outputShapes) shapes.add(s == null ? null : s.clone());
    this.outputShapes = java.util.Collections.unmodifiableList(shapes);
    this.onnx = b.onnx;
    this.engine = b.engine;
    this.cacheKey = b.cacheKey;
    this.precision = b.precision;
    this.backend = b.backend;
    this.segment = b.segment;
    this.key = b.key;
    this.version = b.version;
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  /**
   * Reads and checks an engine node. Throws {@link TftrtException} with one sentence naming the
   * node when it is not a usable {@code TftrtEngine} node.
   */
  public static EngineNode fromNodeDef(NodeDef def) {
    String name = def.getName();
    String where = "engine node '" + name + "'";
    if (!OP.equals(def.getOp())) {
      throw new TftrtException("node '" + name + "' is a " + def.getOp() + ", not a " + OP + ".");
    }
    Builder b = new Builder(name);
    b.device = def.getDevice();
    long version = intAttr(def, ATTR_VERSION, 1);
    if (version > VERSION) {
      throw new TftrtException(where + " has attribute version " + version
          + ", newer than this tftrt reads (" + VERSION + "); use a newer tftrt.");
    }
    b.version = version;
    List<DataType> tin = typeList(def, ATTR_TIN, where);
    List<DataType> tout = typeList(def, ATTR_TOUT, where);
    if (tout.isEmpty()) throw new TftrtException(where + " has no outputs (attr Tout is empty).");
    List<String> data = new ArrayList<>();
    for (String in : def.getInputList()) {
      if (in.startsWith("^")) b.controlInputs.add(in);
      else data.add(in);
    }
    if (data.size() != tin.size()) {
      throw new TftrtException(where + " has " + data.size() + " data inputs but attr Tin lists "
          + tin.size() + " dtypes.");
    }
    for (int i = 0; i < tin.size(); i++) b.input(data.get(i), tin.get(i));
    AttrValue shapes = def.getAttrMap().get(ATTR_SHAPES);
    if (shapes == null) throw new TftrtException(where + " lacks attr '" + ATTR_SHAPES + "'.");
    List<TensorShapeProto> shapeList = shapes.getList().getShapeList();
    if (shapeList.size() != tout.size()) {
      throw new TftrtException(where + " has " + tout.size() + " outputs (attr Tout) but "
          + shapeList.size() + " output shapes (attr " + ATTR_SHAPES + ").");
    }
    for (int i = 0; i < tout.size(); i++) {
      TensorShapeProto s = shapeList.get(i);
      if (s.getUnknownRank()) {
        b.outputUnknownRank(tout.get(i));
      } else {
        long[] dims = new long[s.getDimCount()];
        for (int d = 0; d < dims.length; d++) {
          dims[d] = s.getDim(d).getSize();
          if (dims[d] < -1) {
            throw new TftrtException(where + " output " + i + " has an invalid dimension "
                + dims[d] + " in attr " + ATTR_SHAPES + ".");
          }
        }
        b.output(tout.get(i), dims);
      }
    }
    b.onnx = bytesAttr(def, ATTR_ONNX);
    b.engine = bytesAttr(def, ATTR_ENGINE);
    b.cacheKey = bytesAttr(def, ATTR_CACHE_KEY).toStringUtf8();
    b.precision = stringAttr(def, ATTR_PRECISION, "fp32");
    b.backend = stringAttr(def, ATTR_BACKEND, "auto");
    b.segment = bytesAttr(def, ATTR_SEGMENT);
    b.key = bytesAttr(def, ATTR_KEY).toStringUtf8();
    return new EngineNode(b);
  }

  /** The NodeDef to splice into a GraphDef: op {@value #OP}, every attribute set. */
  public NodeDef toNodeDef() {
    NodeDef.Builder n = NodeDef.newBuilder().setName(name).setOp(OP).addAllInput(inputs);
    if (!device.isEmpty()) n.setDevice(device);
    n.putAttr(ATTR_TIN, types(inputTypes));
    n.putAttr(ATTR_TOUT, types(outputTypes));
    AttrValue.ListValue.Builder shapes = AttrValue.ListValue.newBuilder();
    for (long[] s : outputShapes) shapes.addShape(shapeProto(s));
    n.putAttr(ATTR_SHAPES, AttrValue.newBuilder().setList(shapes).build());
    // Empty payloads are left out (the op's defaults are ''): a format-2 node stays small.
    if (!onnx.isEmpty()) n.putAttr(ATTR_ONNX, AttrValue.newBuilder().setS(onnx).build());
    if (!engine.isEmpty()) n.putAttr(ATTR_ENGINE, AttrValue.newBuilder().setS(engine).build());
    n.putAttr(ATTR_CACHE_KEY, AttrValue.newBuilder().setS(ByteString.copyFromUtf8(cacheKey)).build());
    n.putAttr(ATTR_PRECISION, AttrValue.newBuilder().setS(ByteString.copyFromUtf8(precision)).build());
    n.putAttr(ATTR_BACKEND, AttrValue.newBuilder().setS(ByteString.copyFromUtf8(backend)).build());
    if (!segment.isEmpty()) n.putAttr(ATTR_SEGMENT, AttrValue.newBuilder().setS(segment).build());
    n.putAttr(ATTR_KEY, AttrValue.newBuilder().setS(ByteString.copyFromUtf8(key)).build());
    n.putAttr(ATTR_VERSION, AttrValue.newBuilder().setI(version).build());
    return n.build();
  }

  /** This node with no ONNX model, engine or segment: what a backend keeps once it has loaded them. */
  public EngineNode withoutPayloads() {
    if (onnx.isEmpty() && segment.isEmpty() && engine.isEmpty()) return this;
    Builder b = toBuilder();
    b.onnx = ByteString.EMPTY;
    b.segment = ByteString.EMPTY;
    b.engine = ByteString.EMPTY;
    return new EngineNode(b);
  }

  /** A builder holding this node's values, to change some of them. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.device = device;
    for (String in : inputs) {
      if (in.startsWith("^")) b.controlInputs.add(in);
      else b.dataInputs.add(in);
    }
    b.inputTypes.addAll(inputTypes);
    b.outputTypes.addAll(outputTypes);
    for (long[] s : outputShapes) b.outputShapes.add(s == null ? null : s.clone());
    b.onnx = onnx;
    b.engine = engine;
    b.cacheKey = cacheKey;
    b.precision = precision;
    b.backend = backend;
    b.segment = segment;
    b.key = key;
    b.version = version;
    return b;
  }

  public String name() {
    return name;
  }

  /** The name its backend is looked up by in {@link EngineRegistry}: attr key, else the name. */
  public String registryKey() {
    return key.isEmpty() ? name : key;
  }

  public String key() {
    return key;
  }

  public String device() {
    return device;
  }

  /** The NodeDef's inputs: data inputs ("node:i") first, then control inputs ("^node"). */
  public List<String> inputs() {
    return inputs;
  }

  public int numInputs() {
    return inputTypes.size();
  }

  public int numOutputs() {
    return outputTypes.size();
  }

  public List<DataType> inputTypes() {
    return inputTypes;
  }

  public List<DataType> outputTypes() {
    return outputTypes;
  }

  public DataType outputType(int i) {
    return outputTypes.get(i);
  }

  /** Output i's declared shape (-1 for an unknown dimension), or null where its rank is unknown. */
  public long[] outputShape(int i) {
    long[] s = outputShapes.get(i);
    return s == null ? null : s.clone();
  }

  /** The segment's ONNX model (empty when the node has none). */
  public ByteString onnx() {
    return onnx;
  }

  /** The serialized TensorRT engine (empty until one is built). */
  public ByteString engine() {
    return engine;
  }

  public String cacheKey() {
    return cacheKey;
  }

  public String precision() {
    return precision;
  }

  public String backend() {
    return backend;
  }

  /** The original segment as a serialized GraphDef (empty when the node has none). */
  public ByteString segment() {
    return segment;
  }

  public long version() {
    return version;
  }

  /** Whether {@code shape} fits output i's declared shape (same rank, equal known dims). */
  public boolean outputShapeAccepts(int i, long[] shape) {
    long[] declared = outputShapes.get(i);
    if (declared == null) return true;
    if (declared.length != shape.length) return false;
    for (int d = 0; d < shape.length; d++) {
      if (declared[d] >= 0 && declared[d] != shape[d]) return false;
    }
    return true;
  }

  /** A shape as the messages print it: [1, ?, 3], or "unknown rank". */
  public static String describeShape(long[] shape) {
    if (shape == null) return "unknown rank";
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) sb.append(", ");
      sb.append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
    }
    return sb.append(']').toString();
  }

  @Override
  public String toString() {
    return OP + " '" + name + "' (" + inputTypes.size() + " in, " + outputTypes.size()
        + " out, backend " + backend + ", precision " + precision + ")";
  }

  // ---- attribute helpers ----

  private static AttrValue types(List<DataType> ts) {
    return AttrValue.newBuilder()
        .setList(AttrValue.ListValue.newBuilder().addAllType(ts))
        .build();
  }

  private static TensorShapeProto shapeProto(long[] dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    if (dims == null) return s.setUnknownRank(true).build();
    for (long d : dims) s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d < 0 ? -1 : d));
    return s.build();
  }

  private static List<DataType> typeList(NodeDef def, String attr, String where) {
    AttrValue v = def.getAttrMap().get(attr);
    if (v == null) throw new TftrtException(where + " lacks attr '" + attr + "'.");
    List<DataType> out = new ArrayList<>(v.getList().getTypeList());
    for (DataType t : out) {
      if (t == DataType.UNRECOGNIZED || t == DataType.DT_STRING || !DTypes.isSupported(t)) {
        throw new TftrtException(where + " attr " + attr + " has dtype " + DTypes.name(t)
            + "; engine tensors must be numeric or bool.");
      }
    }
    return out;
  }

  private static ByteString bytesAttr(NodeDef def, String attr) {
    AttrValue v = def.getAttrMap().get(attr);
    return v == null ? ByteString.EMPTY : v.getS();
  }

  private static String stringAttr(NodeDef def, String attr, String dflt) {
    AttrValue v = def.getAttrMap().get(attr);
    return v == null ? dflt : v.getS().toStringUtf8();
  }

  private static long intAttr(NodeDef def, String attr, long dflt) {
    AttrValue v = def.getAttrMap().get(attr);
    return v == null ? dflt : v.getI();
  }

  /** Builds an engine node; the fields not set keep the op's defaults. */
  public static final class Builder {
    private final String name;
    private String device = "";
    private final List<String> dataInputs = new ArrayList<>();
    private final List<String> controlInputs = new ArrayList<>();
    private final List<DataType> inputTypes = new ArrayList<>();
    private final List<DataType> outputTypes = new ArrayList<>();
    private final List<long[]> outputShapes = new ArrayList<>();
    private ByteString onnx = ByteString.EMPTY;
    private ByteString engine = ByteString.EMPTY;
    private String cacheKey = "";
    private String precision = "fp32";
    private String backend = "auto";
    private ByteString segment = ByteString.EMPTY;
    private String key = "";
    private long version = VERSION;

    private Builder(String name) {
      if (name == null || name.isEmpty()) throw new IllegalArgumentException("an engine node needs a name");
      this.name = name;
    }

    /** Adds a data input: a tensor name ("node", "node:1") and its dtype. */
    public Builder input(String tensor, DataType dtype) {
      Objects.requireNonNull(tensor, "tensor");
      if (tensor.startsWith("^")) throw new IllegalArgumentException("use controlInput for " + tensor);
      dataInputs.add(tensor);
      inputTypes.add(checkType(dtype));
      return this;
    }

    /** Adds a control input on a node ("node" or "^node"). */
    public Builder controlInput(String node) {
      controlInputs.add(node.startsWith("^") ? node : "^" + node);
      return this;
    }

    /** Adds an output of this dtype and shape (-1 for a dimension not known statically). */
    public Builder output(DataType dtype, long... shape) {
      outputTypes.add(checkType(dtype));
      outputShapes.add(shape.clone());
      return this;
    }

    /** Adds an output whose rank is not known statically. */
    public Builder outputUnknownRank(DataType dtype) {
      outputTypes.add(checkType(dtype));
      outputShapes.add(null);
      return this;
    }

    public Builder device(String device) {
      this.device = device == null ? "" : device;
      return this;
    }

    public Builder onnx(byte[] model) {
      this.onnx = ByteString.copyFrom(model);
      return this;
    }

    public Builder onnx(ByteString model) {
      this.onnx = Objects.requireNonNull(model);
      return this;
    }

    public Builder engine(ByteString serializedEngine, String cacheKey) {
      this.engine = Objects.requireNonNull(serializedEngine);
      this.cacheKey = Objects.requireNonNull(cacheKey);
      return this;
    }

    public Builder precision(String precision) {
      this.precision = Objects.requireNonNull(precision);
      return this;
    }

    public Builder backend(String backend) {
      this.backend = Objects.requireNonNull(backend);
      return this;
    }

    public Builder segment(GraphDef segment) {
      this.segment = segment.toByteString();
      return this;
    }

    public Builder segment(ByteString serializedGraphDef) {
      this.segment = Objects.requireNonNull(serializedGraphDef);
      return this;
    }

    /** The name the node's backend is registered under ("" for the node's own name). */
    public Builder key(String key) {
      this.key = Objects.requireNonNull(key);
      return this;
    }

    public EngineNode build() {
      if (outputTypes.isEmpty()) {
        throw new IllegalArgumentException("engine node '" + name + "' needs at least one output");
      }
      return new EngineNode(this);
    }

    private DataType checkType(DataType t) {
      if (t == null || t == DataType.DT_STRING || t == DataType.UNRECOGNIZED || !DTypes.isSupported(t)) {
        throw new IllegalArgumentException("engine node '" + name + "': dtype "
            + (t == null ? "null" : DTypes.name(t)) + " is not supported (numeric or bool only)");
      }
      return t;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EngineNode && ((EngineNode) o).toNodeDef().equals(toNodeDef());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(new Object[] {name, inputs, outputTypes});
  }
}
