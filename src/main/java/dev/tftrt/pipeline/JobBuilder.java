package dev.tftrt.pipeline;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * What the freeze, export and convert job builders share: the model and the output, and how
 * the output is checked against the original before it is written. Each job's builder adds its
 * own settings; every setting has a default.
 */
public abstract class JobBuilder<B extends JobBuilder<B>> {
  protected final LoadOptions load;
  protected final Path out;
  protected Map<String, long[]> shapes = Map.of();
  protected boolean verify = true;
  protected boolean allowUnverified;
  protected long seed;
  /** The check's given inputs; null: all random. */
  protected Function<ModelRunner, Map<String, HostTensor>> given;
  protected boolean overwrite;

  protected JobBuilder(LoadOptions load, Path out) {
    this.load = load;
    this.out = out;
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** Sizes for inputs' unknown dimensions, by input name. */
  public B shapes(Map<String, long[]> v) {
    shapes = Map.copyOf(v);
    return self();
  }

  /** False skips the check against the original (the CLI's --no-verify). */
  public B verify(boolean v) {
    verify = v;
    return self();
  }

  /** Writes the output even when the check could not be made (the CLI's --allow-unverified). */
  public B allowUnverified(boolean v) {
    allowUnverified = v;
    return self();
  }

  /** Seed of the check's random inputs. */
  public B seed(long v) {
    seed = v;
    return self();
  }

  /** Inputs the check feeds the original, by input name; the rest are random. */
  public B given(Map<String, HostTensor> v) {
    Map<String, HostTensor> copy = Map.copyOf(v);
    given = original -> copy;
    return self();
  }

  /** Inputs that depend on the original model (its dtypes), computed once it is loaded. */
  public B givenFor(Function<ModelRunner, Map<String, HostTensor>> v) {
    given = v;
    return self();
  }

  /** Replaces an output this tool wrote before (the CLI's --overwrite). */
  public B overwrite(boolean v) {
    overwrite = v;
    return self();
  }
}
