package dev.tftrt.precision.calibrate;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Where calibration samples come from. Each sample is a map from input name to a tensor with a
 * batch axis first (any batch size: calibration feeds them in the batches the model takes).
 * Samples are read lazily, one at a time, so a folder of thousands of images is never held in
 * memory. Names match a model input by key or tensor name, with or without ":0".
 */
public interface CalibrationData {
  /** The samples bound and checked against the model's inputs (names, dtypes, shapes). */
  Iterator<Map<String, HostTensor>> samples(List<TensorSpec> inputs);

  /** What the user gave, for messages ("calibration data images/"). */
  String describe();

  /**
   * A {@code .npz} whose arrays have a batch axis, a folder of {@code .npy}/{@code .npz} files
   * (one sample or batch each; a {@code .npy} only for a model with one input), or a folder of
   * PNG/JPEG images decoded and resized to the input with {@code pre}.
   */
  static CalibrationData open(Path path, Preprocess pre) {
    if (Files.isDirectory(path)) return new FolderData(path, pre);
    String n = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    if (!Files.exists(path)) throw new TftrtException("Calibration data " + path + " does not exist.");
    if (n.endsWith(".npz") || n.endsWith(".npy") || ImageSamples.isImage(path)) return new FolderData(path, pre);
    throw new TftrtException("Calibration data " + path + " is neither a folder nor a .npz, .npy, PNG or JPEG file.");
  }

  /** Samples made by the caller (any Iterable; iterated once per calibration). */
  static CalibrationData of(Iterable<Map<String, HostTensor>> samples) {
    return new CalibrationData() {
      @Override
      public Iterator<Map<String, HostTensor>> samples(List<TensorSpec> inputs) {
        Iterator<Map<String, HostTensor>> it = samples.iterator();
        String what = describe();
        return new Iterator<>() {
          int i;

          @Override
          public boolean hasNext() {
            return it.hasNext();
          }

          @Override
          public Map<String, HostTensor> next() {
            return SampleBinding.bind(it.next(), inputs, what + " sample " + (i++));
          }
        };
      }

      @Override
      public String describe() {
        return "the calibration samples";
      }
    };
  }
}
