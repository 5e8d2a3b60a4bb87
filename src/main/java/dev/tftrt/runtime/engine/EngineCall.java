package dev.tftrt.runtime.engine;

import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.tensorflow.proto.DataType;

/**
 * One execution of an engine node, handed to {@link EngineBackend#run}: the node's input
 * tensors and the means to produce its outputs.
 *
 * <p>Inputs are direct buffers over TensorFlow's own input memory (read-only, little-endian,
 * row-major; no copy). Outputs are allocated by TensorFlow when the backend asks for them with
 * {@link #allocateOutput}, which returns a direct buffer over the output tensor's memory: the
 * backend writes its result there and TensorFlow passes that tensor on, again with no copy.
 * {@link #inputTensor} and {@link #setOutput} are conveniences that copy once.
 *
 * <p>Every buffer belongs to TensorFlow and is valid only until {@code run} returns: a backend
 * must not keep one, or hand one to work that outlives the call. Every output must be set
 * before {@code run} returns.
 */
public final class EngineCall {
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

  private final EngineNode node;
  private final long handle;
  private final ByteBuffer[] inputs;
  private final DataType[] inputTypes;
  private final long[][] inputShapes;
  private final boolean[] outputSet;
  private boolean open = true;

  EngineCall(EngineNode node, long handle, ByteBuffer[] inputs, long[] meta) {
    this.node = node;
    this.handle = handle;
    this.inputs = inputs;
    int n = inputs.length;
    this.inputTypes = new DataType[n];
    this.inputShapes = new long[n][];
    int at = 0;
    for (int i = 0; i < n; i++) {
      inputTypes[i] = DataType.forNumber((int) meta[at++]);
      int rank = (int) meta[at++];
      inputShapes[i] = Arrays.copyOfRange(meta, at, at + rank);
      at += rank;
    }
    this.outputSet = new boolean[node.numOutputs()];
  }

  /** The engine node being run. */
  public EngineNode node() {
    return node;
  }

  public String nodeName() {
    return node.name();
  }

  public int numInputs() {
    return inputs.length;
  }

  public DataType inputType(int i) {
    return inputTypes[i];
  }

  public long[] inputShape(int i) {
    return inputShapes[i].clone();
  }

  /** Input i's bytes: a read-only little-endian direct buffer over TensorFlow's memory. */
  public ByteBuffer input(int i) {
    ensureOpen();
    ByteBuffer b = inputs[i];
    return (b == null ? EMPTY : b).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Input i copied into a {@link HostTensor}. */
  public HostTensor inputTensor(int i) {
    return HostTensor.of(inputTypes[i], inputShapes[i], input(i));
  }

  public int numOutputs() {
    return outputSet.length;
  }

  public DataType outputType(int i) {
    return node.outputType(i);
  }

  /**
   * Allocates output i with this shape in TensorFlow's memory and returns a writable
   * little-endian direct buffer over it, for the backend to fill. Once per output per call; the
   * shape must fit the node's declared output shape.
   */
  public synchronized ByteBuffer allocateOutput(int i, long... shape) {
    ensureOpen();
    if (i < 0 || i >= outputSet.length) {
      throw new IndexOutOfBoundsException("engine node '" + node.name() + "' has "
          + outputSet.length + " outputs, there is no output " + i);
    }
    if (outputSet[i]) {
      throw new IllegalStateException("output " + i + " of engine node '" + node.name()
          + "' is already set");
    }
    if (!node.outputShapeAccepts(i, shape)) {
      // The backend's fault, not the caller's: not an IllegalArgumentException.
      throw new IllegalStateException("the backend gave output " + i + " of engine node '"
          + node.name() + "' the shape " + EngineNode.describeShape(shape)
          + ", but the node declares " + EngineNode.describeShape(node.outputShape(i)));
    }
    ByteBuffer b = EngineBridge.nativeAllocateOutput(handle, i, shape.clone());
    outputSet[i] = true;
    return (b == null ? ByteBuffer.allocateDirect(0) : b).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Sets output i to a copy of {@code value}, whose dtype must be the output's. */
  public void setOutput(int i, HostTensor value) {
    if (i >= 0 && i < outputSet.length && value.dtype() != node.outputType(i)) {
      throw new IllegalStateException("the backend gave output " + i + " of engine node '"
          + node.name() + "' dtype " + DTypes.name(value.dtype()) + ", but the node declares "
          + DTypes.name(node.outputType(i)));
    }
    ByteBuffer out = allocateOutput(i, value.shape());
    out.put(value.data());
  }

  /** Whether output i has been allocated (or set) in this call. */
  public synchronized boolean isOutputSet(int i) {
    return outputSet[i];
  }

  synchronized void checkComplete() {
    for (int i = 0; i < outputSet.length; i++) {
      if (!outputSet[i]) {
        throw new IllegalStateException("the backend returned without setting output " + i
            + " of engine node '" + node.name() + "'");
      }
    }
  }

  synchronized void end() {
    open = false;
  }

  private void ensureOpen() {
    if (!open) {
      throw new IllegalStateException("this call of engine node '" + node.name()
          + "' has returned; its buffers are no longer valid");
    }
  }
}
