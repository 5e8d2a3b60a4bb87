package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.Result;
import org.tensorflow.Tensor;

/**
 * What one {@link TftrtModel#call} gave: its outputs by the signature's names, owned until
 * {@link #close()}. TensorFlow's own {@link Result} keys outputs by graph tensor name
 * ({@code TftrtEngine_0:0}), which no user of a converted model knows; those names still work,
 * as a fallback, so code written against the graph keeps working.
 */
public final class Outputs implements AutoCloseable {
  private final Result result;
  private final String shown;
  private final List<String> names;
  private final List<Tensor> tensors;
  private final Map<String, Tensor> bySignature = new LinkedHashMap<>();
  private final Map<String, Tensor> byTensor = new LinkedHashMap<>();
  private volatile boolean closed;

  /**
   * {@code result} fetched {@code fetched} (each tensor name once) for {@code outputs}, in the
   * signature's order; two signature outputs may name the same tensor.
   */
  Outputs(Result result, List<String> fetched, List<TensorSpec> outputs, String shown) {
    this.result = result;
    this.shown = shown;
    List<String> n = new ArrayList<>();
    List<Tensor> t = new ArrayList<>();
    for (TensorSpec o : outputs) {
      Tensor x = result.get(fetched.indexOf(o.tensor()));
      n.add(o.key());
      t.add(x);
      bySignature.put(o.key(), x);
      byTensor.putIfAbsent(o.tensor(), x);
      if (TensorNames.index(o.tensor()) == 0) byTensor.putIfAbsent(TensorNames.node(o.tensor()), x);
    }
    this.names = List.copyOf(n);
    this.tensors = Collections.unmodifiableList(t);
  }

  /** The output by its signature name, else by its graph tensor name ("node:0" or "node"). */
  public Optional<Tensor> get(String name) {
    checkOpen();
    Tensor t = bySignature.get(name);
    return Optional.ofNullable(t != null ? t : byTensor.get(name));
  }

  /**
   * The output by name (as {@link #get(String)}) as the tensor type expected; one sentence naming
   * the output when there is none or it has another type.
   */
  public <T extends Tensor> T get(String name, Class<T> type) {
    Tensor t = get(name).orElseThrow(() -> new TftrtException(shown + " has no output '" + name
        + "'; its outputs are " + String.join(", ", names) + "."));
    if (!type.isInstance(t)) {
      throw new TftrtException("output '" + name + "' of " + shown + " is a "
          + dev.tftrt.tensor.DTypes.name(t.dataType()) + " tensor, not a " + type.getSimpleName() + ".");
    }
    return type.cast(t);
  }

  /** The i-th output in the signature's order. */
  public Tensor get(int i) {
    checkOpen();
    return tensors.get(i);
  }

  /** The signature's output names, in order. */
  public List<String> names() {
    return names;
  }

  public int size() {
    return names.size();
  }

  /** Signature name → tensor, in order; the tensors stay owned by this object. */
  public Map<String, Tensor> asMap() {
    checkOpen();
    return Collections.unmodifiableMap(bySignature);
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("these outputs of " + shown + " are closed");
  }

  /** Closes every output tensor; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    result.close();
  }
}
