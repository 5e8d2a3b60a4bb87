package dev.tftrt.precision.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import dev.tftrt.tensor.Npz;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

/** Every form of calibration data, and one sentence for each kind of data that does not fit. */
class CalibrationDataTest {
  static final TensorSpec IMAGE = new TensorSpec("image:0", "image:0", DataType.DT_FLOAT, new long[] {-1, 8, 8, 3});
  static final List<TensorSpec> INPUTS = List.of(IMAGE);

  static HostTensor floats(long... shape) {
    return HostTensor.ofFloats(shape, new float[(int) HostTensor.numElements(shape)]);
  }

  static String error(Path p, Preprocess pre) {
    return assertThrows(TftrtException.class, () -> {
      Iterator<Map<String, HostTensor>> it = CalibrationData.open(p, pre).samples(INPUTS);
      while (it.hasNext()) it.next();
    }).getMessage();
  }

  private static Path assertDoesNotThrowIo(Path folder) {
    try {
      return Files.createDirectories(folder);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void npzWithABatchAxisAndFoldersOfArrays(@TempDir Path dir) {
    Path npz = dir.resolve("calib.npz");
    Npz.write(Map.of("image", floats(5, 8, 8, 3)), npz);
    Map<String, HostTensor> s = CalibrationData.open(npz, Preprocess.NONE).samples(INPUTS).next();
    assertEquals(5, s.get("image:0").shape()[0]);
    Path folder = dir.resolve("arrays");
    assertEquals(folder, assertDoesNotThrowIo(folder));
    Npy.write(floats(1, 8, 8, 3), folder.resolve("a.npy"));
    Npz.write(Map.of("image:0", floats(2, 8, 8, 3)), folder.resolve("b.npz"));
    Iterator<Map<String, HostTensor>> it = CalibrationData.open(folder, Preprocess.NONE).samples(INPUTS);
    assertEquals(1, it.next().get("image:0").shape()[0]);
    assertEquals(2, it.next().get("image:0").shape()[0]);
    assertFalse(it.hasNext());
  }

  @Test
  void imagesAreDecodedResizedAndPreprocessed(@TempDir Path dir) throws Exception {
    BufferedImage img = new BufferedImage(20, 10, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(new Color(255, 0, 51));
    g.fillRect(0, 0, 20, 10);
    g.dispose();
    ImageIO.write(img, "png", dir.resolve("red.png").toFile());
    ImageIO.write(img, "jpg", dir.resolve("red.jpg").toFile());
    Preprocess pre = Preprocess.parse("scale=1/255,mean=0.5,std=0.5,order=bgr");
    Iterator<Map<String, HostTensor>> it = CalibrationData.open(dir, pre).samples(INPUTS);
    HostTensor jpg = it.next().get("image:0");
    HostTensor png = it.next().get("image:0");
    assertEquals(List.of(1L, 8L, 8L, 3L), java.util.Arrays.stream(png.shape()).boxed().toList());
    // BGR: channel 0 is blue (51 -> (0.2 - 0.5) / 0.5 = -0.6), channel 2 red (1.0)
    assertEquals(-0.6, png.getDouble(0), 1e-6);
    assertEquals(-1.0, png.getDouble(1), 1e-6);
    assertEquals(1.0, png.getDouble(2), 1e-6);
    assertEquals(1.0, jpg.getDouble(2), 0.05); // lossy
  }

  @Test
  void namesDtypesAndShapesThatDoNotMatchAreRefused(@TempDir Path dir) {
    Path wrongName = dir.resolve("name.npz");
    Npz.write(Map.of("pixels", floats(1, 8, 8, 3)), wrongName);
    assertEquals("Calibration file " + wrongName + " has no array for input image:0 (it holds pixels).",
        error(wrongName, Preprocess.NONE));
    Path wrongType = dir.resolve("type.npz");
    Npz.write(Map.of("image", HostTensor.ofInts(new long[] {1, 1, 1, 3}, 1, 2, 3)), wrongType);
    assertEquals("Calibration file " + wrongType + " gives input image:0 as int32, but the model takes float32.",
        error(wrongType, Preprocess.NONE));
    Path wrongShape = dir.resolve("shape.npz");
    Npz.write(Map.of("image", floats(1, 8, 9, 3)), wrongShape);
    assertEquals("Calibration file " + wrongShape + " gives input image:0 the shape [1, 8, 9, 3], but the model takes"
        + " [?, 8, 8, 3] (the first axis is the batch).", error(wrongShape, Preprocess.NONE));
    assertEquals("the calibration samples sample 0 has an array 'extra' that is no input of the model (inputs: image:0).",
        assertThrows(TftrtException.class, () -> CalibrationData.of(List.of(Map.of("image", floats(1, 8, 8, 3),
            "extra", floats(1)))).samples(INPUTS).next()).getMessage());
  }

  @Test
  void emptyFolderAndUnreadableImage(@TempDir Path dir) throws Exception {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    Files.writeString(empty.resolve("README.txt"), "not data");
    assertEquals("Calibration data folder " + empty + " holds no .npy, .npz, PNG or JPEG files.",
        assertThrows(TftrtException.class, () -> CalibrationData.open(empty, Preprocess.NONE)).getMessage());
    Path bad = Files.createDirectory(dir.resolve("bad"));
    Path png = bad.resolve("broken.png");
    Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    assertEquals("Calibration image " + png + " is not a PNG or JPEG image that can be decoded.", error(bad, Preprocess.NONE));
    assertEquals("Calibration data " + dir.resolve("none") + " does not exist.",
        assertThrows(TftrtException.class, () -> CalibrationData.open(dir.resolve("none"), Preprocess.NONE)).getMessage());
  }

  @Test
  void preprocessMistakesAreOneSentence() {
    assertEquals("--preprocess key 'gamma' is unknown (keys: scale, mean, std, order, layout).",
        assertThrows(TftrtException.class, () -> Preprocess.parse("gamma=2")).getMessage());
    assertEquals("--preprocess std 0.0 must be a positive number.",
        assertThrows(TftrtException.class, () -> Preprocess.parse("std=0")).getMessage());
    assertEquals(Preprocess.parse("scale=0.5"), Preprocess.parse("scale=1/2"));
  }
}
