package dev.tftrt.runtime.engine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tftrt.TftrtException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import org.tensorflow.proto.NodeDef;

/**
 * The Java half of the native op's JNI bridge (native/src/java_bridge.cc). The native kernel
 * calls {@link #bind} once when TensorFlow constructs it, {@link #call} on every execution and
 * {@link #release} when TensorFlow drops it. None of them lets an exception out: failures go
 * back through {@link #nativeFail} and become TensorFlow errors that name the node.
 */
final class EngineBridge {
  static final int VERSION = 2;
  private static final System.Logger LOG = System.getLogger(EngineBridge.class.getName());

  // TensorFlow error codes (tensorflow/c/tf_status.h).
  static final int CANCELLED = 1;
  static final int INVALID_ARGUMENT = 3;
  static final int RESOURCE_EXHAUSTED = 8;
  static final int FAILED_PRECONDITION = 9;
  static final int UNIMPLEMENTED = 12;
  static final int INTERNAL = 13;

  private EngineBridge() {}

  /** Caches classes and method ids on the native side; returns the bridge version. */
  static native int nativeInit();

  static native void nativeFail(long handle, int code, String message);

  /** _exit(code): no C++ static destructors (TensorFlow's crash when its threads still run). */
  static native void nativeExit(int code);

  static native ByteBuffer nativeAllocateOutput(long handle, int index, long[] dims);

  // ---- slots: one per kernel instance, found by index on every call ----

  private static final Object LOCK = new Object();
  private static volatile Slot[] slots = new Slot[16]; // copy-on-write; read without locking
  private static final ArrayDeque<Integer> FREE = new ArrayDeque<>();
  private static int next;

  /** One kernel's node and, when a factory made it, its own backend. */
  static final class Slot {
    final EngineNode node;
    private EngineBackend created; // from a factory, owned here
    private RuntimeException creationFailure;
    private boolean released;

    Slot(EngineNode node) {
      this.node = node;
    }

    EngineBackend backend() {
      EngineBackend b = EngineRegistry.registered(node.registryKey());
      return b != null ? b : created();
    }

    private synchronized EngineBackend created() {
      if (created != null) return created;
      if (creationFailure != null) throw creationFailure;
      if (released) throw new IllegalStateException("engine node '" + node.name() + "' was released");
      try {
        created = EngineRegistry.createFromFactories(node);
      } catch (Exception e) {
        creationFailure = new TftrtException("engine node '" + node.name()
            + "': creating its backend failed: " + describe(e), e);
        throw creationFailure;
      }
      if (created == null) {
        // Not cached: a backend registered later is found on the next call.
        throw new TftrtException("engine node '" + node.name() + "' has no backend: none is "
            + "registered under key '" + node.registryKey() + "' and no factory accepts it.");
      }
      return created;
    }

    synchronized void close() {
      released = true;
      if (created != null) {
        try {
          created.close();
        } catch (Exception e) {
          LOG.log(Level.WARNING, "closing the backend of engine node '" + node.name() + "' failed", e);
        }
        created = null;
      }
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger LARGEST_BOUND = new java.util.concurrent.atomic.AtomicInteger();

  /** The largest NodeDef (bytes) any kernel has bound so far: what crosses JNI per kernel construction. */
  static int largestBoundNodeDef() {
    return LARGEST_BOUND.get();
  }

  /** Called by the native kernel's constructor: parses and checks the node, returns its slot. */
  static int bind(long handle, String nodeName, byte[] nodeDef) {
    LARGEST_BOUND.accumulateAndGet(nodeDef.length, Math::max);
    try {
      EngineNode node;
      try {
        node = EngineNode.fromNodeDef(NodeDef.parseFrom(nodeDef));
      } catch (InvalidProtocolBufferException e) {
        throw new TftrtException("engine node '" + nodeName + "': its NodeDef does not parse: "
            + e.getMessage());
      }
      synchronized (LOCK) {
        int id;
        if (!FREE.isEmpty()) {
          id = FREE.pop();
        } else {
          id = next++;
        }
        Slot[] s = slots;
        Slot[] copy = Arrays.copyOf(s, Math.max(s.length, Integer.highestOneBit(id + 1) << 1));
        copy[id] = new Slot(node);
        slots = copy;
        return id;
      }
    } catch (Throwable t) {
      // A node that does not check out is a bad graph, as TensorFlow's own attribute errors are.
      int code = t instanceof OutOfMemoryError ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT;
      nativeFail(handle, code, messageFor(nodeName, null, t));
      return -1;
    }
  }

  /** Called by the native kernel on every execution. */
  static void call(int slot, long handle, ByteBuffer[] inputs, long[] meta) {
    Slot[] s = slots;
    Slot entry = slot >= 0 && slot < s.length ? s[slot] : null;
    if (entry == null) {
      nativeFail(handle, INTERNAL, "engine kernel slot " + slot + " is not bound");
      return;
    }
    EngineCall call = null;
    EngineBackend backend = null;
    try {
      backend = entry.backend();
      call = new EngineCall(entry.node, handle, inputs, meta);
      backend.run(call);
      call.checkComplete();
    } catch (Throwable t) {
      LOG.log(Level.DEBUG, () -> "engine node '" + entry.node.name() + "' failed", t);
      nativeFail(handle, codeOf(t), messageFor(entry.node.name(), backend, t));
    } finally {
      if (call != null) call.end();
    }
  }

  /**
   * Called by the native kernel once, on its first call: the handle of its backend's native
   * runner ({@link EngineBackend#nativeRunner}), 0 for none, -1 when the backend cannot be had
   * yet (the kernel asks again on its next call, whose Java path reports why).
   */
  static long nativeRunner(int slot) {
    Slot[] s = slots;
    Slot entry = slot >= 0 && slot < s.length ? s[slot] : null;
    if (entry == null) return -1;
    try {
      return Math.max(0, entry.backend().nativeRunner());
    } catch (Throwable t) {
      return -1;
    }
  }

  /** Called by the native kernel's destructor. */
  static void release(int slot) {
    Slot entry;
    synchronized (LOCK) {
      Slot[] s = slots;
      if (slot < 0 || slot >= s.length || s[slot] == null) return;
      entry = s[slot];
      Slot[] copy = s.clone();
      copy[slot] = null;
      slots = copy;
      FREE.push(slot);
    }
    try {
      entry.close();
    } catch (Throwable t) {
      LOG.log(Level.WARNING, "releasing engine node '" + entry.node.name() + "' failed", t);
    }
  }

  /** How many kernels are bound now (for tests and diagnostics). */
  static int boundKernels() {
    int n = 0;
    for (Slot x : slots) if (x != null) n++;
    return n;
  }

  /**
   * The TensorFlow error code for a failure, which decides the exception TensorFlow Java
   * throws: IllegalArgumentException ↔ INVALID_ARGUMENT (TFInvalidArgumentException, an
   * IllegalArgumentException) and UnsupportedOperationException ↔ UNIMPLEMENTED keep their Java
   * meaning; everything else becomes a TensorFlowException (FAILED_PRECONDITION for a problem
   * with the model or setup, RESOURCE_EXHAUSTED, CANCELLED, or INTERNAL).
   */
  static int codeOf(Throwable t) {
    if (t instanceof IllegalArgumentException) return INVALID_ARGUMENT;
    if (t instanceof UnsupportedOperationException) return UNIMPLEMENTED;
    if (t instanceof TftrtException) return FAILED_PRECONDITION;
    if (t instanceof OutOfMemoryError) return RESOURCE_EXHAUSTED;
    if (t instanceof InterruptedException) return CANCELLED;
    return INTERNAL;
  }

  static String messageFor(String nodeName, EngineBackend backend, Throwable t) {
    String text = describe(t);
    if (text.contains("engine node '" + nodeName + "'")) return text;
    String via = backend == null ? "" : " (backend " + safeDescribe(backend) + ")";
    return "engine node '" + nodeName + "'" + via + " failed: " + text;
  }

  private static String safeDescribe(EngineBackend b) {
    try {
      return b.describe();
    } catch (RuntimeException e) {
      return b.getClass().getName();
    }
  }

  /** "Class: message", with the causes' messages after it. */
  static String describe(Throwable t) {
    StringBuilder sb = new StringBuilder();
    Throwable c = t;
    for (int depth = 0; c != null && depth < 4; depth++, c = c.getCause()) {
      if (depth > 0) sb.append(" (caused by ");
      boolean plain = c instanceof TftrtException && c.getMessage() != null;
      if (!plain) sb.append(c.getClass().getSimpleName());
      if (c.getMessage() != null) sb.append(plain ? "" : ": ").append(c.getMessage());
      if (depth > 0) sb.append(')');
      if (c.getCause() == c) break;
    }
    return sb.toString();
  }
}
