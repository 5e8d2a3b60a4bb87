package dev.tftrt.build;

import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.tensorrt.nvinfer.ILogger;

/**
 * TensorRT's logger: the only TensorRT callback the preset lets Java implement. Messages go to
 * java.util.logging (VERBOSE only at FINE) and to an optional listener (the build progress).
 *
 * <p>Three rules from the preset (TENSORRT.md, section 2): the severity TensorRT passes is built
 * by JNI without being the canonical enum constant, so it is {@code intern()}ed before use;
 * {@code log} must never throw (a Java exception pending across the noexcept native frame is
 * undefined), so everything is caught; and the native side holds only a weak reference to this
 * object, so whoever creates a builder, runtime or parser with it keeps it reachable for as long.
 *
 * <p>Constructing one needs the TensorRT natives (it allocates the native peer).
 */
public final class TrtLogger extends ILogger {
  private static final Logger LOG = Logger.getLogger("dev.tftrt.build.tensorrt");
  private volatile Consumer<String> listener;
  /** The last error message TensorRT logged, for exceptions that would otherwise say nothing. */
  private volatile String lastError;

  public TrtLogger() {
    super();
  }

  public void listener(Consumer<String> l) {
    this.listener = l;
  }

  public String lastError() {
    return lastError;
  }

  @Override
  public void log(Severity severity, String msg) {
    try {
      Severity s = severity == null ? Severity.kINFO : severity.intern();
      Level level = level(s.value);
      if (s.value <= Severity.kERROR.value) lastError = msg;
      if (LOG.isLoggable(level)) LOG.log(level, "TensorRT: " + msg);
      Consumer<String> l = listener;
      if (l != null) l.accept(msg);
    } catch (Throwable t) {
      // never let anything escape into TensorRT's native frame
    }
  }

  /** java.util.logging's level for a TensorRT severity value. */
  static Level level(int severity) {
    if (severity <= 1) return Level.SEVERE; // kINTERNAL_ERROR, kERROR
    if (severity == 2) return Level.WARNING;
    if (severity == 3) return Level.CONFIG; // kINFO: shown only when asked for
    return Level.FINE; // kVERBOSE
  }
}
