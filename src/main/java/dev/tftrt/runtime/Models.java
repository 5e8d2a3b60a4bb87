package dev.tftrt.runtime;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;

/** Opens any model tftrt can run, choosing the runner from the path. */
public final class Models {
  private Models() {}

  public static ModelRunner open(LoadOptions o) {
    return open(o, null);
  }

  /** As {@link #open(LoadOptions)}; a converted model runs its engines on backend (null: their own). */
  public static ModelRunner open(LoadOptions o, dev.tftrt.runtime.backend.Backend backend) {
    return openWith(o, TftrtModel.Options.defaults().withBackend(backend));
  }

  /** As {@link #open(LoadOptions)}; a converted model loads with {@code converted} (its backend, ...). */
  public static ModelRunner openWith(LoadOptions o, TftrtModel.Options converted) {
    boolean tf = !(o.path().getFileName() != null && o.path().getFileName().toString().endsWith(".onnx"))
        && !dev.tftrt.model.ConvertedModel.isConverted(o.path());
    if (!o.bindings().isEmpty() && !tf) {
      throw new dev.tftrt.TftrtException("--set binds inputs of TensorFlow models; " + o.path()
          + " is " + (dev.tftrt.model.ConvertedModel.isConverted(o.path()) ? "a converted model" : "an ONNX model")
          + ": feed the value with --input.");
    }
    if (o.path().getFileName() != null && o.path().getFileName().toString().endsWith(".onnx")) {
      if (!java.nio.file.Files.isRegularFile(o.path())) {
        throw new dev.tftrt.TftrtException(o.path() + " does not exist.");
      }
      return OnnxRunner.open(o.path());
    }
    if (dev.tftrt.model.ConvertedModel.isConverted(o.path())) {
      return new ConvertedRunner(TftrtModel.load(o.path(), converted));
    }
    return new TfRunner(TfModel.load(o));
  }
}
