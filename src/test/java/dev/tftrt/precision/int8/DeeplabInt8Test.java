package dev.tftrt.precision.int8;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.Plan;
import dev.tftrt.precision.calibrate.Calibration;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.Preprocess;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared DeepLab (portrait segmentation), optimized as convert does and exported whole (it
 * is one engine), calibrated on photos from ../shared/datasets/photos, keeps its per-pixel
 * class on a photo not used for calibration.
 */
class DeeplabInt8Test {
  static final Path MODEL = Path.of("../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb");
  static final Path PHOTOS = Path.of("../shared/datasets/photos");
  static final String IN = "ImageTensor:0";
  static final String OUT = "SemanticPredictions:0";

  static ModelProto exportAt(int side) {
    try (TfModel m = TfModel.load(LoadOptions.of(MODEL))) {
      Plan p = Plan.make(m, Map.of("ImageTensor", new long[] {1, side, side, 3}), Segmenter.Options.defaults());
      return new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(p.optimized().graph(), List.of(IN), List.of(OUT));
    }
  }

  @Test
  void perPixelAgreementOnAPhotoNotUsedForCalibration(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(MODEL) && Files.isDirectory(PHOTOS), "shared DeepLab or photos absent");
    ModelProto fp32 = exportAt(257);
    Path calib = Files.createDirectory(dir.resolve("calib"));
    for (String f : new String[] {"chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "camera.png"}) {
      Files.createSymbolicLink(calib.resolve(f), PHOTOS.resolve(f).toAbsolutePath());
    }
    Int8Options o = new Int8Options(Calibrator.PERCENTILE, Calibrator.DEFAULT_PERCENTILE, calib, null, Preprocess.NONE,
        Int8Options.Rest.FP32, 1);
    TensorRanges r = Int8Rewrite.calibrate(fp32, CalibrationData.open(calib, Preprocess.NONE), o);
    ModelProto int8 = Int8Rewrite.apply(fp32, r, o);
    List<TensorSpec> inputs = Calibration.inputs(fp32);
    HostTensor photo = CalibrationData.open(PHOTOS.resolve("astronaut.png"), Preprocess.NONE).samples(inputs).next().get(IN);
    HostTensor a;
    HostTensor q;
    try (OnnxRunner ra = new OnnxRunner(fp32.toByteArray(), "fp32"); OnnxRunner rq = new OnnxRunner(int8.toByteArray(), "int8")) {
      a = ra.run(Map.of(IN, photo)).get(OUT);
      q = rq.run(Map.of(IN, photo)).get(OUT);
    }
    long same = 0;
    long person = 0;
    for (long i = 0; i < a.numElements(); i++) {
      if (a.getDouble(i) == q.getDouble(i)) same++;
      if (a.getDouble(i) != 0) person++;
    }
    double agree = 100.0 * same / a.numElements();
    System.out.printf("DeepLab INT8 (percentile, 5 photos): %.2f%% per-pixel agreement on astronaut.png (%d of %d pixels person)%n",
        agree, person, a.numElements());
    assertTrue(person > 0 && person < a.numElements(), "the FP32 model sees a person and a background");
    assertTrue(agree >= 97, "per-pixel agreement " + agree);
  }
}
