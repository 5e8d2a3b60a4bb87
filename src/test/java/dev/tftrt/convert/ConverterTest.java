package dev.tftrt.convert;

import dev.tftrt.tensor.HostTensor;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/** Base of converter tests: coverage checking and small graph shortcuts. */
@ExtendWith(CoverageExtension.class)
public abstract class ConverterTest {
  protected final Rand rand = new Rand(getClass().getName().hashCode());

  /** x (and y) placeholders -> op -> "out"; checked on the given values. */
  protected OnnxCheck unary(String op, HostTensor x, long[] xShape) {
    TfBuilder b = new TfBuilder();
    Output<?> in = b.placeholder("x", x.dtype(), xShape);
    b.op(op).name("out").in(in).attr("T", x.dtype()).build();
    return OnnxCheck.of(b).feed("x", x).outputs("out");
  }

  protected OnnxCheck binary(String op, HostTensor x, long[] xShape, HostTensor y, long[] yShape) {
    TfBuilder b = new TfBuilder();
    Output<?> a = b.placeholder("x", x.dtype(), xShape);
    Output<?> c = b.placeholder("y", y.dtype(), yShape);
    TfBuilder.Node n = b.op(op).name("out").in(a, c);
    if (!op.startsWith("Logical")) n.attr("T", x.dtype());
    n.build();
    return OnnxCheck.of(b).feed("x", x).feed("y", y).outputs("out");
  }

  protected static long[] s(long... dims) {
    return dims;
  }

  protected static final DataType F32 = DataType.DT_FLOAT;
  protected static final DataType I32 = DataType.DT_INT32;
}
