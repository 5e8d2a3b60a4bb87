package dev.tftrt.convert.ops;

import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.OpConverter;
import java.util.List;

/** The converters tftrt ships, one per op family. Add a new family here. */
public final class StandardConverters {
  private StandardConverters() {}

  /** Built once: converters are stateless, so one registry serves every thread. */
  private static final class Holder {
    static final ConverterRegistry REGISTRY = new ConverterRegistry(all());
  }

  /** The registry of the converters shipped with tftrt. */
  public static ConverterRegistry registry() {
    return Holder.REGISTRY;
  }

  public static List<OpConverter> all() {
    return List.of(
        new Identity(),
        new ElementwiseBinary(),
        new ElementwiseUnary(),
        new Activations(),
        new MatMul(),
        new BiasAdd(),
        new Convolution(),
        new Pooling(),
        new Softmax(),
        new BatchNorm(),
        new Reshape(),
        new Transpose(),
        new Concat(),
        new Split(),
        new Reduce(),
        new Cast(),
        new Pad(),
        new Slice(),
        new Gather(),
        new Fill(),
        new Select(),
        new Resize(),
        new ClipByValue(),
        new DepthSpace(),
        new Einsum(),
        new Cumsum(),
        new TopK(),
        new Lrn(),
        new ConvTranspose(),
        new SpaceBatch(),
        new Quantization(),
        new Dequantize());
  }
}
