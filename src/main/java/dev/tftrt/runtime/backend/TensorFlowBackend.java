package dev.tftrt.runtime.backend;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tftrt.TftrtException;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineCall;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.tensor.DTypes;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.RawTensor;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.internal.types.registry.TensorTypeRegistry;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.family.TType;

/**
 * Runs an engine node's original segment (its {@code segment} attribute) with TensorFlow: the
 * fallback that needs nothing but TensorFlow itself. One {@link Graph} and {@link Session} per
 * backend, created once; every call is one {@code Session.run} (thread-safe).
 *
 * <p>The segment GraphDef's convention (the splicer writes it): its inputs are Placeholders
 * named {@value #INPUT_PREFIX}0, {@value #INPUT_PREFIX}1, ... in the node's input order, and
 * its outputs are nodes named {@value #OUTPUT_PREFIX}0, {@value #OUTPUT_PREFIX}1, ... (Identity
 * nodes reading each segment output) in the node's output order; the backend fetches {@code
 * tftrt_output_i:0}. The constructor checks that every one of them is there and that the
 * Placeholders' dtypes are the node's {@code Tin}.
 *
 * <p>The session runs the segment's ops in the calling thread ({@code
 * inter_op_parallelism_threads = -1}; ops still use TensorFlow's intra-op threads): the caller
 * is a kernel of the outer session, and waiting there for work queued on the inter-op pool that
 * both sessions share could exhaust that pool under concurrent calls.
 *
 * <p>Copies per call: one per input (TensorFlow's input memory into a new tensor for the
 * segment's session) and one per output (the segment's result into the output TensorFlow
 * allocated for the engine node). TensorFlow Java has no public way to wrap memory it does not
 * own as a tensor, nor to run into caller-allocated outputs.
 */
public final class TensorFlowBackend implements EngineBackend {
  public static final String INPUT_PREFIX = "tftrt_input_";
  public static final String OUTPUT_PREFIX = "tftrt_output_";

  private final EngineNode node;
  private final Graph graph;
  private final Session session;
  private final String[] feeds;
  private final String[] fetches;
  private volatile boolean closed;

  /** Imports {@code node}'s segment; throws {@link TftrtException} naming the node on failure. */
  public TensorFlowBackend(EngineNode node) {
    this.node = node.withoutPayloads(); // the session holds the model: no second copy here
    String where = "engine node '" + node.name() + "'";
    if (node.segment().isEmpty()) {
      throw new TftrtException(where + " carries no TensorFlow segment (attr '"
          + EngineNode.ATTR_SEGMENT + "' is empty), so the tensorflow backend cannot run it.");
    }
    GraphDef def;
    try {
      def = GraphDef.parseFrom(node.segment());
    } catch (InvalidProtocolBufferException e) {
      throw new TftrtException(where + " carries a TensorFlow segment that is not a GraphDef (truncated or corrupt).", e);
    }
    dev.tftrt.model.GraphChecks.check(def, where + "'s segment");
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : def.getNodeList()) byName.put(n.getName(), n);
    feeds = new String[node.numInputs()];
    for (int i = 0; i < feeds.length; i++) {
      NodeDef p = byName.get(INPUT_PREFIX + i);
      if (p == null || !p.getOp().startsWith("Placeholder")) {
        throw new TftrtException(where + " carries a TensorFlow segment without a Placeholder "
            + "named " + INPUT_PREFIX + i + " for its input " + i + ".");
      }
      AttrValue dt = p.getAttrMap().get("dtype");
      DataType declared = node.inputTypes().get(i);
      if (dt != null && dt.getType() != declared) {
        throw new TftrtException(where + " declares input " + i + " as " + DTypes.name(declared)
            + " (attr Tin) but its segment's " + INPUT_PREFIX + i + " is "
            + DTypes.name(dt.getType()) + ".");
      }
      feeds[i] = INPUT_PREFIX + i;
    }
    fetches = new String[node.numOutputs()];
    for (int i = 0; i < fetches.length; i++) {
      if (!byName.containsKey(OUTPUT_PREFIX + i)) {
        throw new TftrtException(where + " carries a TensorFlow segment without a node named "
            + OUTPUT_PREFIX + i + " for its output " + i + ".");
      }
      fetches[i] = OUTPUT_PREFIX + i + ":0";
    }
    Graph g = new Graph();
    try {
      g.importGraphDef(def);
    } catch (RuntimeException e) {
      g.close();
      throw new TftrtException(where + " carries a TensorFlow segment that TensorFlow cannot "
          + "import: " + OnnxRuntimeBackend.firstLine(e) + ".", e);
    }
    Session s;
    try {
      s = new Session(g, ConfigProto.newBuilder().setInterOpParallelismThreads(-1).build());
    } catch (RuntimeException e) {
      g.close();
      throw new TftrtException(where + ": TensorFlow cannot create a session for its segment: "
          + OnnxRuntimeBackend.firstLine(e) + ".", e);
    }
    this.graph = g;
    this.session = s;
  }

  @Override
  public void run(EngineCall call) {
    if (closed) throw new IllegalStateException("the tensorflow backend is closed");
    Tensor[] in = new Tensor[feeds.length];
    try {
      Session.Runner r = session.runner();
      for (int i = 0; i < feeds.length; i++) {
        in[i] = copyIn(call, i);
        r.feed(feeds[i], in[i]);
      }
      for (String f : fetches) r.fetch(f);
      try (Result result = r.run()) {
        for (int i = 0; i < fetches.length; i++) {
          Tensor t = result.get(i);
          if (t.dataType() != node.outputType(i)) {
            throw new IllegalStateException("the segment's " + fetches[i] + " is "
                + DTypes.name(t.dataType()) + " but the node declares output " + i + " as "
                + DTypes.name(node.outputType(i)));
          }
          copyOut(t.asRawTensor(), call.allocateOutput(i, t.shape().asArray()));
        }
      }
    } finally {
      for (Tensor t : in) if (t != null) t.close();
    }
  }

  /** A new tensor holding a copy of input i (one copy). */
  private static Tensor copyIn(EngineCall call, int i) {
    DataType dt = call.inputType(i);
    Class<? extends TType> type = TensorTypeRegistry.find(dt).type();
    ByteBuffer src = call.input(i);
    Tensor t = Tensor.of(type, Shape.of(call.inputShape(i)));
    try {
      RawTensor raw = t.asRawTensor();
      if (raw.numBytes() != src.remaining()) {
        throw new IllegalStateException("input " + i + " has " + src.remaining() + " bytes but a "
            + DTypes.name(dt) + " tensor of its shape has " + raw.numBytes());
      }
      ByteBuffer dst = NativeMemory.view(raw);
      if (dst != null) {
        dst.put(src);
      } else {
        byte[] b = new byte[src.remaining()];
        src.get(b);
        raw.data().write(b);
      }
      return t;
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  /** Copies a result into the engine node's output (one copy). */
  private static void copyOut(RawTensor raw, ByteBuffer out) {
    ByteBuffer src = NativeMemory.view(raw);
    if (src != null) {
      out.put(src);
    } else {
      byte[] b = new byte[(int) raw.numBytes()];
      raw.data().read(b);
      out.put(b);
    }
  }

  @Override
  public String describe() {
    return "tensorflow";
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    session.close();
    graph.close();
  }

  @Override
  public String toString() {
    return "tensorflow backend of engine node '" + node.name() + "'";
  }
}
