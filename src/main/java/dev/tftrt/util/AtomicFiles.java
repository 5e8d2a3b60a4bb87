package dev.tftrt.util;

import dev.tftrt.TftrtException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes files so that a failure leaves nothing half-written: each file goes to a temporary
 * name in the target's folder and is moved into place only once every file is complete; an
 * existing target is replaced only then.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  @FunctionalInterface
  public interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  public static void write(Path target, byte[] bytes) {
    write(Map.of(target, out -> out.write(bytes)));
  }

  public static void write(Path target, Writer writer) {
    write(Map.of(target, writer));
  }

  /** Writes all targets, or none of them. */
  public static void write(Map<Path, Writer> targets) {
    Map<Path, Path> temps = new LinkedHashMap<>();
    try {
      for (Map.Entry<Path, Writer> e : targets.entrySet()) {
        Path target = e.getKey().toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
          throw new TftrtException("cannot write " + e.getKey() + ": its folder does not exist.");
        }
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        temps.put(target, tmp);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
          e.getValue().writeTo(out);
        }
      }
      List<Path> moved = new ArrayList<>();
      for (Map.Entry<Path, Path> e : temps.entrySet()) {
        move(e.getValue(), e.getKey());
        moved.add(e.getKey());
      }
      temps.clear();
    } catch (IOException e) {
      throw new TftrtException("cannot write " + targets.keySet().iterator().next() + ": " + e.getMessage() + ".", e);
    } finally {
      for (Path tmp : temps.values()) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort: the temporary name starts with '.' and ends with .tmp
        }
      }
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
