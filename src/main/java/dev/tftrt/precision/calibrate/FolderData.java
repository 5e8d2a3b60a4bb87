package dev.tftrt.precision.calibrate;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import dev.tftrt.tensor.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;

/** A file or a folder of .npy, .npz and image files, read in name order, one file per sample. */
final class FolderData implements CalibrationData {
  private final Path path;
  private final Preprocess pre;
  private final List<Path> files;

  FolderData(Path path, Preprocess pre) {
    this.path = path;
    this.pre = pre;
    this.files = Files.isDirectory(path) ? list(path) : List.of(path);
    if (files.isEmpty()) {
      throw new TftrtException("Calibration data folder " + path + " holds no .npy, .npz, PNG or JPEG files.");
    }
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().startsWith("."))
          .filter(p -> Files.isRegularFile(p) && (isArray(p) || ImageSamples.isImage(p)))
          .sorted().toList();
    } catch (IOException e) {
      throw new TftrtException("Calibration data folder " + dir + " could not be listed.", e);
    }
  }

  private static boolean isArray(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".npy") || n.endsWith(".npz");
  }

  @Override
  public String describe() {
    return "calibration data " + path;
  }

  @Override
  public Iterator<Map<String, HostTensor>> samples(List<TensorSpec> inputs) {
    return new Iterator<>() {
      int i;

      @Override
      public boolean hasNext() {
        return i < files.size();
      }

      @Override
      public Map<String, HostTensor> next() {
        if (!hasNext()) throw new NoSuchElementException();
        Path f = files.get(i++);
        return SampleBinding.bind(read(f, inputs), inputs, "Calibration file " + f);
      }
    };
  }

  private Map<String, HostTensor> read(Path f, List<TensorSpec> inputs) {
    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".npz")) return Npz.read(f);
    if (n.endsWith(".npy")) {
      if (inputs.size() != 1) {
        throw new TftrtException("Calibration file " + f + " is one .npy array, but the model has " + inputs.size()
            + " inputs; give a .npz with an array per input.");
      }
      Map<String, HostTensor> m = new LinkedHashMap<>();
      m.put(inputs.get(0).key(), Npy.read(f));
      return m;
    }
    return ImageSamples.read(f, inputs, pre);
  }
}
