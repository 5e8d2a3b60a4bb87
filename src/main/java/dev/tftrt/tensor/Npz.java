package dev.tftrt.tensor;

import dev.tftrt.util.Memory;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy .npz files: a zip archive whose entries NAME.npy each hold one array,
 * stored (numpy.savez) or deflated (numpy.savez_compressed).
 */
public final class Npz {
  private Npz() {}

  /** The arrays in archive order, keyed by entry name without ".npy". */
  public static LinkedHashMap<String, HostTensor> read(Path file) {
    if (!Files.exists(file)) throw new TftrtException(file + " does not exist.");
    ZipFile zip;
    try {
      // ZipFile reads the central directory, which copes with the zip64 records numpy writes.
      dev.tftrt.util.InputFiles.checkRegular(file);
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new TftrtException(
          file + " is not a NumPy .npz file: it is not a valid zip archive.", e);
    } catch (IOException e) {
      throw new TftrtException("could not read " + file + ": " + Npy.reason(e) + ".", e);
    }
    LinkedHashMap<String, HostTensor> arrays = new LinkedHashMap<>();
    try (zip) {
      for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
        ZipEntry entry = en.nextElement();
        String name = entry.getName();
        if (entry.isDirectory() || !name.endsWith(".npy")) {
          throw new TftrtException(
              file + " holds the entry '" + name + "', which is not a .npy file.");
        }
        String key = name.substring(0, name.length() - ".npy".length());
        if (arrays.containsKey(key)) {
          throw new TftrtException(file + " holds the entry '" + name + "' twice.");
        }
        if (entry.getSize() > Memory.MAX_ARRAY || entry.getSize() > Memory.heapAvailable()) {
          throw new TftrtException(file + " entry '" + name + "' unpacks to " + Memory.human(entry.getSize())
              + ", more than tftrt can hold in memory.");
        }
        byte[] bytes;
        try (InputStream in = zip.getInputStream(entry)) {
          bytes = in.readAllBytes();
        } catch (OutOfMemoryError e) {
          throw new TftrtException(file + " entry '" + name + "' is too large for tftrt to unpack into memory.");
        } catch (IOException e) {
          throw new TftrtException(
              "could not unpack the entry '" + name + "' of " + file + ": " + Npy.reason(e) + ".",
              e);
        }
        arrays.put(key, Npy.read(bytes, file + " entry '" + name + "'"));
      }
    } catch (IOException e) {
      throw new TftrtException("could not read " + file + ": " + Npy.reason(e) + ".", e);
    }
    return arrays;
  }

  /** Writes arrays uncompressed, as numpy.savez does, atomically (see {@link Npy#write}). */
  public static void write(Map<String, HostTensor> arrays, Path file) {
    write(arrays, file, false);
  }

  /** Writes arrays, deflated when compress is set (numpy.savez_compressed), atomically. */
  public static void write(Map<String, HostTensor> arrays, Path file, boolean compress) {
    Npy.atomicWrite(file, out -> {
      ZipOutputStream zip = new ZipOutputStream(out);
      for (Map.Entry<String, HostTensor> e : arrays.entrySet()) {
        String name = e.getKey() + ".npy";
        byte[] bytes = Npy.encode(e.getValue(), file + " entry '" + name + "'");
        ZipEntry entry = new ZipEntry(name);
        if (compress) {
          entry.setMethod(ZipEntry.DEFLATED);
        } else { // a stored entry must declare its size and checksum up front
          CRC32 crc = new CRC32();
          crc.update(bytes);
          entry.setMethod(ZipEntry.STORED);
          entry.setSize(bytes.length);
          entry.setCompressedSize(bytes.length);
          entry.setCrc(crc.getValue());
        }
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
      }
      zip.finish(); // writes the central directory; atomicWrite closes the file
    });
  }
}
