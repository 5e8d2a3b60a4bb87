package dev.tftrt.runtime.backend;

import dev.tftrt.runtime.ort.OrtOptions;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.tftrt.TftrtException;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineCall;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * Runs an engine node's ONNX model (its {@code onnx} attribute) with ONNX Runtime on the CPU.
 * One {@link OrtSession} per backend, created once and shared by every call (ONNX Runtime
 * sessions are thread-safe for {@code run}).
 *
 * <p>The node's inputs are the ONNX graph's inputs in order, and its outputs the ONNX graph's
 * outputs in order (the ONNX names are TensorFlow tensor names such as {@code x:0}, but only
 * the order matters here). The constructor checks that the counts and dtypes agree with the
 * node's {@code Tin} and {@code Tout}.
 *
 * <p>Copies per call:
 *
 * <ul>
 *   <li>Inputs: none. Each input is TensorFlow's own memory, handed to ONNX Runtime as an
 *       {@link OnnxTensor} over the direct buffer (ONNX Runtime's Java API uses a direct buffer
 *       as it is and copies only heap buffers).
 *   <li>Outputs, when every output shape the node declares is fully known: none. The outputs
 *       are allocated in TensorFlow first and given to ONNX Runtime as pre-allocated ("pinned")
 *       outputs, which it writes into.
 *   <li>Outputs otherwise (an unknown dimension, such as the batch): one copy per output, from
 *       ONNX Runtime's output memory into TensorFlow's, through a direct view of ONNX Runtime's
 *       memory. Where that view is not reachable (ONNX Runtime loaded as a named module that does
 *       not open its package), two: {@link OnnxTensor#getByteBuffer()} copies to the Java heap
 *       first.
 * </ul>
 */
public final class OnnxRuntimeBackend implements EngineBackend {
  /** OnnxTensor's private direct view of its native memory, or null where not accessible. */
  private static final MethodHandle DIRECT_VIEW = directView();

  private final EngineNode node;
  private final OrtSession session;
  private final String[] inputNames;
  private final String[] outputNames;
  private final OnnxJavaType[] inputTypes;
  private final OnnxJavaType[] outputTypes;
  /** Output shapes when all are fully known (pinned outputs), else null. */
  private final long[][] staticOutputShapes;
  /** The kernel's way to this session with no Java per call; null where there is none. */
  private final dev.tftrt.runtime.ort.OrtNativeRunner runner;
  private volatile boolean closed;

  /** Loads {@code node}'s ONNX model on the default options; see {@link #OnnxRuntimeBackend(EngineNode, OrtOptions)}. */
  public OnnxRuntimeBackend(EngineNode node) {
    this(node, OrtOptions.defaults());
  }

  /** Loads {@code node}'s ONNX model; throws {@link TftrtException} naming the node on failure. */
  public OnnxRuntimeBackend(EngineNode node, OrtOptions options) {
    this.node = node.withoutPayloads(); // the session holds the model: no second copy here
    String where = "engine node '" + node.name() + "'";
    if (node.onnx().isEmpty()) {
      throw new TftrtException(where + " carries no ONNX model (attr '" + EngineNode.ATTR_ONNX
          + "' is empty), so the onnxruntime backend cannot run it.");
    }
    OrtSession s;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setSessionLogLevel(dev.tftrt.runtime.ort.Ort.logLevel());
      so.setOptimizationLevel(options.optimization());
      if (options.sharedPool()) {
        so.disablePerSessionThreads(); // the environment's global pool, shared by every engine
      } else {
        so.setIntraOpNumThreads(options.intraOpThreads());
        so.setInterOpNumThreads(options.interOpThreads());
        so.addConfigEntry("session.intra_op.allow_spinning", "0");
        so.addConfigEntry("session.inter_op.allow_spinning", "0");
      }
      s = OrtEnvironments.forSessions(options).createSession(node.onnx().toByteArray(), so);
    } catch (OrtException | RuntimeException e) {
      throw new TftrtException(where + " carries an ONNX model that ONNX Runtime cannot load: "
          + dev.tftrt.runtime.ort.OrtErrors.why(e) + ".", e);
    }
    try {
      Map<String, NodeInfo> ins = s.getInputInfo();
      Map<String, NodeInfo> outs = s.getOutputInfo();
      inputNames = ins.keySet().toArray(new String[0]);
      outputNames = outs.keySet().toArray(new String[0]);
      inputTypes = check(where, "input", "Tin", ins, node.inputTypes());
      outputTypes = check(where, "output", "Tout", outs, node.outputTypes());
      staticOutputShapes = staticShapes(node);
    } catch (OrtException | RuntimeException e) {
      try {
        s.close();
      } catch (OrtException ignored) {
        // already failing
      }
      if (e instanceof TftrtException t) throw t;
      throw new TftrtException(where + " carries an ONNX model whose inputs and outputs ONNX "
          + "Runtime cannot describe: " + dev.tftrt.runtime.ort.OrtErrors.why(e) + ".", e);
    }
    this.session = s;
    long[][] declared = new long[node.numOutputs()][];
    for (int i = 0; i < declared.length; i++) declared[i] = node.outputShape(i);
    this.runner = !options.nativeCalls() ? null : dev.tftrt.runtime.ort.OrtNativeRunner.create(node.name(), s, List.of(inputNames),
        node.inputTypes(), List.of(outputNames), node.outputTypes(), declared,
        staticOutputShapes != null && Arrays.stream(staticOutputShapes).allMatch(shape -> HostTensor.numElements(shape) > 0));
  }

  /** The native runner's handle: the engine kernel then runs this session without Java. */
  @Override
  public long nativeRunner() {
    return runner == null || closed ? 0 : runner.handle();
  }

  /** Whether the engine kernel runs this session natively (see {@link #nativeRunner}). */
  boolean runsNatively() {
    return runner != null;
  }

  private static OnnxJavaType[] check(String where, String kind, String attr,
      Map<String, NodeInfo> infos, List<DataType> declared) {
    if (infos.size() != declared.size()) {
      throw new TftrtException(where + " has " + declared.size() + " " + kind + "s (attr " + attr
          + ") but its ONNX model has " + infos.size() + ".");
    }
    OnnxJavaType[] types = new OnnxJavaType[declared.size()];
    int i = 0;
    for (Map.Entry<String, NodeInfo> e : infos.entrySet()) {
      if (!(e.getValue().getInfo() instanceof TensorInfo ti)) {
        throw new TftrtException(where + ": ONNX " + kind + " " + i + " ('" + e.getKey()
            + "') is not a tensor.");
      }
      DataType onnx;
      try {
        onnx = ti.type == OnnxJavaType.UNKNOWN || ti.type == OnnxJavaType.STRING
            ? DataType.DT_INVALID : dev.tftrt.runtime.ort.Ort.dtype(ti.type, e.getKey());
      } catch (TftrtException unsupported) {
        onnx = DataType.DT_INVALID;
      }
      if (onnx != declared.get(i)) {
        throw new TftrtException(where + " declares " + kind + " " + i + " as "
            + DTypes.name(declared.get(i)) + " (attr " + attr + ") but its ONNX model's " + kind
            + " '" + e.getKey() + "' is " + (onnx == DataType.DT_INVALID ? ti.type.toString()
            : DTypes.name(onnx)) + ".");
      }
      types[i] = dev.tftrt.runtime.ort.Ort.javaType(declared.get(i));
      i++;
    }
    return types;
  }

  private static long[][] staticShapes(EngineNode node) {
    long[][] shapes = new long[node.numOutputs()][];
    for (int i = 0; i < shapes.length; i++) {
      long[] s = node.outputShape(i);
      if (s == null) return null;
      for (long d : s) if (d < 0) return null;
      shapes[i] = s;
    }
    return shapes;
  }

  /** Whether outputs are written by ONNX Runtime straight into TensorFlow's memory. */
  boolean preallocatesOutputs() {
    return staticOutputShapes != null;
  }

  /** Whether dynamic-shape outputs are copied once (true) or twice (through the heap). */
  static boolean copiesOutputsOnce() {
    return DIRECT_VIEW != null;
  }

  @Override
  public void run(EngineCall call) throws Exception {
    if (closed) throw new IllegalStateException("the onnxruntime backend is closed");
    OrtEnvironment env = dev.tftrt.runtime.ort.Ort.environment();
    int n = inputNames.length;
    if (call.numInputs() != n) {
      throw new IllegalStateException("the call has " + call.numInputs() + " inputs, the ONNX "
          + "model " + n);
    }
    Map<String, OnnxTensor> feeds = new HashMap<>(2 * n);
    List<OnnxTensor> pinned = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ByteBuffer in = call.input(i).order(ByteOrder.nativeOrder());
        feeds.put(inputNames[i], OnnxTensor.createTensor(env, in, call.inputShape(i), inputTypes[i]));
      }
      if (staticOutputShapes != null) {
        Map<String, OnnxValue> outs = new HashMap<>(2 * outputNames.length);
        for (int i = 0; i < outputNames.length; i++) {
          ByteBuffer out = call.allocateOutput(i, staticOutputShapes[i]).order(ByteOrder.nativeOrder());
          OnnxTensor t = OnnxTensor.createTensor(env, out, staticOutputShapes[i], outputTypes[i]);
          pinned.add(t);
          outs.put(outputNames[i], t);
        }
        // ONNX Runtime writes the outputs into TensorFlow's memory; the result only holds them.
        session.run(feeds, outs).close();
        return;
      }
      try (OrtSession.Result r = session.run(feeds)) {
        for (int i = 0; i < outputNames.length; i++) {
          OnnxTensor t = (OnnxTensor) r.get(outputNames[i]).orElseThrow();
          long[] shape = t.getInfo().getShape();
          ByteBuffer out = call.allocateOutput(i, shape);
          out.put(bytesOf(t));
        }
      }
    } catch (OrtException e) {
      throw new TftrtException("engine node '" + node.name() + "': ONNX Runtime failed: "
          + dev.tftrt.runtime.ort.OrtErrors.why(e) + ".", e);
    } finally {
      for (OnnxTensor t : feeds.values()) t.close();
      for (OnnxTensor t : pinned) t.close();
    }
  }

  /** The output's bytes: a view of ONNX Runtime's memory where reachable, else a heap copy. */
  private static ByteBuffer bytesOf(OnnxTensor t) {
    if (DIRECT_VIEW != null) {
      try {
        return ((ByteBuffer) DIRECT_VIEW.invokeExact(t)).duplicate();
      } catch (Throwable e) {
        // fall through to the copying accessor
      }
    }
    return t.getByteBuffer();
  }

  private static MethodHandle directView() {
    try {
      MethodHandles.Lookup l = MethodHandles.privateLookupIn(OnnxTensor.class, MethodHandles.lookup());
      return l.findVirtual(OnnxTensor.class, "getBuffer", MethodType.methodType(ByteBuffer.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** The ONNX graph's input names in the node's input order. */
  public List<String> inputNames() {
    return List.of(inputNames);
  }

  /** The ONNX graph's output names in the node's output order. */
  public List<String> outputNames() {
    return List.of(outputNames);
  }

  @Override
  public String describe() {
    return "onnxruntime";
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (runner != null) runner.close(); // waits for native calls in flight, before the session goes
    try {
      session.close();
    } catch (OrtException e) {
      throw new TftrtException("closing the ONNX Runtime session of engine node '" + node.name()
          + "' failed: " + firstLine(e) + ".", e);
    }
  }

  static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int nl = m.indexOf('\n');
    m = nl > 0 ? m.substring(0, nl) : m;
    return m.endsWith(".") ? m.substring(0, m.length() - 1) : m;
  }

  @Override
  public String toString() {
    return "onnxruntime backend of engine node '" + node.name() + "' (inputs "
        + Arrays.toString(inputNames) + ", outputs " + Arrays.toString(outputNames) + ")";
  }
}
