package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

class ElementwiseTest extends ConverterTest {
  @Test
  @Covers({"Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference", "RealDiv"})
  void arithmeticBroadcastsWithUnknownBatch() {
    for (String op : new String[] {"Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum",
        "SquaredDifference", "RealDiv"}) {
      binary(op, rand.floats(3, 4, 5), s(-1, 4, 5), rand.floats(1, 5), s(1, 5)).run();
      binary(op, rand.floats(2, 3), s(2, 3), rand.floats(2, 3), s(2, 3)).run();
    }
  }

  @Test
  @Covers({"Add", "Sub", "Mul", "Maximum", "Minimum", "FloorDiv", "FloorMod", "SquaredDifference"})
  void integerArithmetic() {
    for (String op : new String[] {"Add", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"}) {
      binary(op, rand.ints(-50, 50, 3, 4), s(3, 4), rand.ints(-50, 50, 4), s(4)).run();
    }
    // floor division and modulo with negative operands, where they differ from truncation
    HostTensor x = HostTensor.ofInts(s(8), 7, -7, 7, -7, 0, 9, -9, 5);
    HostTensor y = HostTensor.ofInts(s(8), 2, 2, -2, -2, 3, 3, 4, -3);
    binary("FloorDiv", x, s(8), y, s(8)).run();
    binary("FloorMod", x, s(8), y, s(8)).run();
  }

  @Test
  @Covers({"FloorDiv", "FloorMod", "DivNoNan", "Pow", "AddN"})
  void floatSpecials() {
    HostTensor x = rand.range(-5, 5, 4, 6);
    HostTensor y = rand.range(0.5, 3, 4, 6);
    binary("FloorDiv", x, s(4, 6), y, s(4, 6)).run();
    binary("FloorMod", x, s(4, 6), y, s(4, 6)).run();
    binary("Pow", rand.range(0.1, 3, 4, 6), s(4, 6), rand.range(-2, 2, 6), s(6)).run();
    HostTensor withZeros = HostTensor.ofFloats(s(4), 1, 0, -2, 0);
    binary("DivNoNan", rand.floats(4), s(4), withZeros, s(4)).run();

    TfBuilder b = new TfBuilder();
    Output<?> p = b.placeholder("x", F32, 2, 3);
    b.op("AddN").name("out").inList(p, p, b.floats(s(2, 3), 1, 2, 3, 4, 5, 6)).attr("N", 3).attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 3)).outputs("out").run();
  }

  @Test
  @Covers({"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"})
  void comparisons() {
    for (String op : new String[] {"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"}) {
      binary(op, rand.ints(0, 3, 3, 4), s(-1, 4), rand.ints(0, 3, 4), s(4)).run();
      binary(op, rand.floats(3, 4), s(3, 4), rand.floats(3, 1), s(3, 1)).run();
    }
  }

  @Test
  @Covers({"LogicalAnd", "LogicalOr", "LogicalNot"})
  void logical() {
    binary("LogicalAnd", rand.bools(3, 4), s(3, 4), rand.bools(4), s(4)).run();
    binary("LogicalOr", rand.bools(3, 4), s(3, 4), rand.bools(3, 1), s(3, 1)).run();
    TfBuilder b = new TfBuilder();
    b.op("LogicalNot").name("out").in(b.placeholder("x", DataType.DT_BOOL, 5)).build();
    OnnxCheck.of(b).feed("x", rand.bools(5)).outputs("out").run();
  }

  @Test
  @Covers({"Abs", "Neg", "Exp", "Sqrt", "Rsqrt", "Square", "Reciprocal", "Inv", "Floor", "Ceil",
      "Round", "Rint", "Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Asinh", "Erf", "Sign", "Expm1"})
  void unaryOnWholeRange() {
    for (String op : new String[] {"Abs", "Neg", "Exp", "Square", "Floor", "Ceil", "Round",
        "Rint", "Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Asinh", "Erf", "Sign", "Expm1"}) {
      unary(op, rand.range(-3, 3, 2, 3, 4), s(-1, 3, 4)).tol(1e-5, 1e-5).run();
    }
    // Round is half to even in both
    unary("Round", HostTensor.ofFloats(s(6), 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f), s(6)).run();
    for (String op : new String[] {"Sqrt", "Rsqrt", "Reciprocal", "Inv"}) {
      unary(op, rand.range(0.1, 4, 3, 4), s(3, 4)).run();
    }
  }

  @Test
  @Covers({"Log", "Log1p", "Asin", "Acos", "Atanh", "Acosh", "IsNan"})
  void unaryOnTheirDomain() {
    unary("Log", rand.range(0.01, 5, 3, 4), s(3, 4)).run();
    unary("Log1p", rand.range(-0.9, 5, 3, 4), s(3, 4)).tol(1e-5, 1e-6).run();
    unary("Asin", rand.range(-0.99, 0.99, 3, 4), s(3, 4)).run();
    unary("Acos", rand.range(-0.99, 0.99, 3, 4), s(3, 4)).run();
    unary("Atanh", rand.range(-0.9, 0.9, 3, 4), s(3, 4)).tol(1e-5, 1e-6).run();
    unary("Acosh", rand.range(1.01, 5, 3, 4), s(3, 4)).run();
    unary("IsNan", HostTensor.ofFloats(s(3), 1f, Float.NaN, Float.POSITIVE_INFINITY), s(3)).run();
  }

  @Test
  @Covers({"Abs", "Neg", "Sign", "Square"})
  void integerUnary() {
    for (String op : new String[] {"Abs", "Neg", "Sign", "Square"}) {
      unary(op, rand.ints(-20, 20, 10), s(10)).run();
    }
  }

  @Test
  void rejectsUnsupportedDtypes() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", DataType.DT_INT64, 3);
    b.op("Add").name("add").in(x, x).attr("T", DataType.DT_INT64).build();
    b.op("Relu").name("relu").in(b.placeholder("i", I32, 3)).attr("T", I32).build();
    assertEquals("T is int64, and only float16, float32, int32 are supported.",
        OnnxCheck.validate(b, "add").orElseThrow());
    assertEquals("T is int32, and only float16, float32 are supported.",
        OnnxCheck.validate(b, "relu").orElseThrow());
  }
}
