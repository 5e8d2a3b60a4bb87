package dev.tftrt.runtime;

import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;

/** A converted model folder behind the {@link ModelRunner} interface (run, compare, demo). */
public final class ConvertedRunner implements ModelRunner {
  private final TftrtModel model;

  public ConvertedRunner(TftrtModel model) {
    this.model = model;
  }

  public TftrtModel model() {
    return model;
  }

  @Override
  public String describe() {
    return model.shownAs();
  }

  @Override
  public List<TensorSpec> inputs() {
    return model.inputs();
  }

  @Override
  public List<TensorSpec> outputs() {
    return model.outputs();
  }

  @Override
  public Map<String, HostTensor> run(Map<String, HostTensor> feeds) {
    return model.run(feeds);
  }

  @Override
  public void close() {
    model.close();
  }
}
