package dev.tftrt.runtime.engine;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.OpDef;

/**
 * Loads the native {@code TftrtEngine} op (libtftrt_engine.so, built from native/ by the Maven
 * build) into TensorFlow, once per JVM: {@code TensorFlow.loadLibrary} registers the op and its
 * CPU kernel, then {@code System.load} of the same file binds the JNI bridge through which the
 * kernel calls the Java backends. Call {@link #load()} before importing a graph that contains
 * engine nodes; calling it again is harmless.
 *
 * <p>The library comes from the system property {@value #LIBRARY_PROPERTY} when set, else from
 * the classpath ({@value #RESOURCE}); from a jar it is extracted once to a per-user directory
 * under java.io.tmpdir named by its SHA-256, so that every class loader and process that loads
 * the same build opens the same file.
 */
public final class EngineOp {
  /** The op's type name. */
  public static final String OP_NAME = EngineNode.OP;
  /** A path to libtftrt_engine.so that overrides the one on the classpath. */
  public static final String LIBRARY_PROPERTY = "tftrt.engine.library";
  static final String RESOURCE = "/dev/tftrt/native/linux-x86_64/libtftrt_engine.so";

  private static Path loadedFrom;
  /** Set once the JNI bridge is bound; read without the lock by {@link #exitNow}. */
  private static volatile boolean bridgeBound;
  private static TftrtException failure;

  private EngineOp() {}

  /** Loads and registers the op if that has not happened yet; returns the library's path. */
  public static synchronized Path load() {
    if (loadedFrom != null) return loadedFrom;
    if (failure != null) throw new TftrtException(failure.getMessage(), failure);
    try {
      Path lib = locate();
      try {
        TensorFlow.loadLibrary(lib.toString());
      } catch (RuntimeException | UnsatisfiedLinkError e) {
        throw new TftrtException("TensorFlow cannot load the " + OP_NAME + " op library " + lib
            + ": " + e.getMessage(), e);
      }
      if (!isRegistered()) {
        throw new TftrtException("loading " + lib + " did not register the " + OP_NAME
            + " op; see TensorFlow's log for why.");
      }
      try {
        System.load(lib.toString());
      } catch (UnsatisfiedLinkError e) {
        throw new TftrtException("the JVM cannot bind the " + OP_NAME + " op's Java bridge in "
            + lib + " (" + e.getMessage() + "); load tftrt from one class loader per JVM.", e);
      }
      int version = EngineBridge.nativeInit();
      if (version != EngineBridge.VERSION) {
        throw new TftrtException(lib + " has bridge version " + version + " but these classes need "
            + EngineBridge.VERSION + "; rebuild it (mvn package).");
      }
      loadedFrom = lib;
      bridgeBound = true;
      return lib;
    } catch (TftrtException e) {
      failure = e;
      throw e;
    }
  }

  /**
   * Ends the process with code now, from any thread (a shutdown hook included): through the
   * bridge's _exit when it is bound, so TensorFlow's static destructors do not run while its
   * threads still work (which crashed interrupted runs with SIGSEGV), else Runtime.halt.
   */
  public static void exitNow(int code) {
    if (bridgeBound) {
      try {
        EngineBridge.nativeExit(code);
      } catch (UnsatisfiedLinkError e) {
        // a library built before nativeExit existed: halt instead
      }
    }
    Runtime.getRuntime().halt(code);
  }

  /** Whether {@link #load()} has succeeded in this class loader. */
  public static synchronized boolean isLoaded() {
    return loadedFrom != null;
  }

  /** Whether TensorFlow's op registry knows {@value #OP_NAME}. */
  public static boolean isRegistered() {
    for (OpDef op : TensorFlow.registeredOpList().getOpList()) {
      if (OP_NAME.equals(op.getName())) return true;
    }
    return false;
  }

  private static Path locate() {
    String override = System.getProperty(LIBRARY_PROPERTY);
    if (override != null && !override.isBlank()) {
      Path p = Paths.get(override).toAbsolutePath();
      if (!Files.isRegularFile(p)) {
        throw new TftrtException(LIBRARY_PROPERTY + " names " + p + ", which is not a file.");
      }
      return p;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new TftrtException("the " + OP_NAME + " op is built for linux-x86_64 only, not "
          + os + "-" + arch + ".");
    }
    URL url = EngineOp.class.getResource(RESOURCE);
    if (url == null) {
      throw new TftrtException("libtftrt_engine.so is not on the classpath (" + RESOURCE
          + "); build it with mvn package (needs cmake and a C++ compiler).");
    }
    if ("file".equals(url.getProtocol())) {
      try {
        return Paths.get(url.toURI()).toAbsolutePath();
      } catch (URISyntaxException e) {
        throw new TftrtException("cannot read the library location " + url + ".", e);
      }
    }
    return extract(url);
  }

  private static Path extract(URL url) {
    try {
      byte[] bytes;
      try (InputStream in = url.openStream()) {
        bytes = in.readAllBytes();
      }
      String hash = dev.tftrt.util.Sha256.hex(bytes);
      String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
      Path base = Paths.get(System.getProperty("java.io.tmpdir"), "tftrt-native-" + user);
      createPrivateDirectories(base);
      if (!ownedByMe(base)) {
        // Someone else made the shared directory: use a private one for this JVM only.
        base = Files.createTempDirectory("tftrt-native-");
        base.toFile().deleteOnExit();
      }
      Path dir = base.resolve(hash.substring(0, 16));
      Path lib = dir.resolve("libtftrt_engine.so");
      if (Files.isRegularFile(lib) && hash.equals(dev.tftrt.util.Sha256.hex(lib))) return lib;
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "libtftrt_engine", ".tmp");
      dev.tftrt.util.InFlight.removeOnInterrupt(tmp);
      try {
        Files.write(tmp, bytes);
        try {
          Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
        dev.tftrt.util.InFlight.keep(tmp);
      }
      return lib;
    } catch (IOException e) {
      throw new TftrtException("cannot extract libtftrt_engine.so to java.io.tmpdir: "
          + e.getMessage(), e);
    }
  }

  private static void createPrivateDirectories(Path dir) throws IOException {
    try {
      Files.createDirectories(dir,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException | UnsupportedOperationException e) {
      Files.createDirectories(dir);
    }
  }

  private static boolean ownedByMe(Path dir) {
    try {
      return Files.getOwner(dir).getName().equals(System.getProperty("user.name"));
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** The largest NodeDef (bytes) an engine kernel has bound in this process: what crossed JNI at a kernel's construction. */
  public static int largestBoundNodeDef() {
    return EngineBridge.largestBoundNodeDef();
  }
}
