package dev.tftrt.util;

import dev.tftrt.TftrtException;
import dev.tftrt.util.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reading the user's files whole, after checking what they are: a FIFO or device would block
 * forever or never end, and a file larger than a protocol buffer may be (2 GB) or than the heap
 * still free would end in an OutOfMemoryError. Each of those is one sentence naming the file.
 */
public final class InputFiles {
  private InputFiles() {}

  /** Protocol buffers (GraphDef, SavedModel, ONNX) cannot exceed 2 GB serialized. */
  public static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;

  /** Reads file, at most limit bytes, as the kind of file named by what ("a TensorFlow model"). */
  public static byte[] read(Path file, long limit, String what) {
    checkRegular(file);
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new TftrtException(file + " could not be read.", e);
    }
    if (size > limit) {
      throw new TftrtException(file + " is " + Memory.human(size) + ", larger than " + what + " can be ("
          + Memory.human(limit) + ").");
    }
    if (size > Memory.MAX_ARRAY) {
      throw new TftrtException(file + " is " + Memory.human(size) + ", more than tftrt reads into memory at once (2 GB).");
    }
    if (!Memory.fitsInHeap(size)) {
      throw new TftrtException(file + " is " + Memory.human(size) + ", more than the " + Memory.human(Memory.heapAvailable())
          + " of memory tftrt has free (raise it with -Xmx in TFTRT_JAVA_OPTS).");
    }
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new TftrtException(file + " does not exist.", e);
    } catch (IOException e) {
      throw new TftrtException(file + " could not be read.", e);
    } catch (OutOfMemoryError e) {
      throw new TftrtException(file + " is too large for tftrt to read into memory.");
    }
  }

  /**
   * Refuses anything but a regular file (symlinks are followed): opening a FIFO blocks until a
   * writer comes, reading a device never ends.
   */
  public static void checkRegular(Path file) {
    if (Files.isRegularFile(file)) return;
    if (!Files.exists(file)) throw new TftrtException(file + " does not exist.");
    if (Files.isDirectory(file)) throw new TftrtException(file + " is a folder, not a file.");
    throw new TftrtException(file + " is not a regular file (a FIFO, socket or device), so tftrt does not read it.");
  }
}
