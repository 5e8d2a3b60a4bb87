package dev.tftrt.precision;

import java.util.Map;
import java.util.Set;

/**
 * Which ONNX ops may compute in FP16, which must stay in FP32 and why, and which only move data
 * (they follow the precision of what feeds them, so no cast is placed around a Reshape).
 */
final class OpRules {
  private OpRules() {}

  /** Compute ops with FP16 kernels in TensorRT and FP16 in their ONNX type constraints. */
  static final Set<String> FP16 = Set.of("Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Sub",
      "Mul", "Div", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
      "Elu", "Selu", "Softplus", "Softsign", "Clip", "Max", "Min", "Sum", "Mean", "Abs", "Neg",
      "Sqrt", "Reciprocal", "Erf", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "MaxPool",
      "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
      "InstanceNormalization", "LayerNormalization", "LRN", "Resize", "ReduceMax", "ReduceMin",
      "ReduceMean", "ReduceSum", "ReduceL1", "ReduceL2", "ReduceProd", "Einsum", "Dropout",
      "ConstantOfShape", "Constant", "Cast");

  /** Ops that only move, select or compare values: exact in any float type. */
  static final Set<String> FOLLOW = Set.of("Reshape", "Transpose", "Squeeze", "Unsqueeze",
      "Flatten", "Identity", "Slice", "Gather", "GatherElements", "GatherND", "Concat", "Split",
      "Expand", "Tile", "Pad", "DepthToSpace", "SpaceToDepth", "Where", "ScatterND",
      "ScatterElements", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "ArgMax",
      "ArgMin", "TopK", "Trilu", "ReverseSequence", "Compress");

  /** Kept in FP32 whatever the data: FP16's range or precision is known to hurt them. */
  static final Map<String, String> FP32 = Map.ofEntries(
      Map.entry("Exp", "Exp overflows FP16 above 11"),
      Map.entry("Log", "Log loses FP16 precision near 1"),
      Map.entry("Pow", "Pow overflows FP16"),
      Map.entry("Softmax", "Softmax inputs need FP32 range"),
      Map.entry("LogSoftmax", "Softmax inputs need FP32 range"),
      Map.entry("ReduceLogSumExp", "it exponentiates"),
      Map.entry("ReduceLogSum", "it takes a logarithm"),
      Map.entry("ReduceSumSquare", "sums of squares overflow FP16"),
      Map.entry("Upsample", "TensorRT has no low-precision Upsample"),
      Map.entry("NonMaxSuppression", "TensorRT has no low-precision NonMaxSuppression"),
      Map.entry("Celu", "TensorRT has no low-precision Celu"),
      Map.entry("Range", "Range has no FP16 type in ONNX"),
      Map.entry("CumSum", "CumSum has no FP16 type in ONNX and accumulates"));

  /** Reductions whose size decides: FP16 accumulation over many values loses precision. */
  static final Set<String> REDUCTIONS = Set.of("ReduceSum", "ReduceMean", "ReduceL1", "ReduceL2",
      "ReduceProd", "GlobalAveragePool");

  /** Quantize/Dequantize: their arithmetic and scales stay FP32 (opset 17 scales are float). */
  static final Set<String> QDQ = Set.of("QuantizeLinear", "DequantizeLinear");

  /** Ops whose weighted input, fed by a DequantizeLinear, TensorRT fuses into an INT8 kernel. */
  static final Set<String> QUANTIZABLE = Set.of("Conv", "ConvTranspose", "MatMul", "Gemm", "Add",
      "AveragePool", "GlobalAveragePool", "MaxPool", "Mul");

  /** Inputs that accept any type (no cast is placed before them), or keep their own float type. */
  static boolean untouchedInput(String op, int i) {
    switch (op) {
      case "Shape": case "Size": case "Cast": return true;
      case "Resize": return i > 0; // roi and scales are FP32 by AutoCast's rule (scales is float only)
      default: return false;
    }
  }
}
