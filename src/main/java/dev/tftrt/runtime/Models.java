package dev.tftrt.runtime;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;

/** Opens any model tftrt can run, choosing the runner from the path. */
public final class Models {
  private Models() {}

  public static ModelRunner open(LoadOptions o) {
    return new TfRunner(TfModel.load(o));
  }
}
