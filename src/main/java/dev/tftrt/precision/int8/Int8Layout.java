package dev.tftrt.precision.int8;

import java.util.Locale;

/**
 * Where the Q/DQ pairs of an INT8 rewrite go, and for which runtime.
 *
 * <p>{@link #TENSORRT} (the default): Q/DQ on the inputs of the ops TensorRT fuses, float
 * weights behind Q/DQ, no Q on outputs; TensorRT folds them into INT8 kernels. ONNX Runtime's
 * CPU provider runs that layout as FP32 kernels with quantize-dequantize in float around them.
 *
 * <p>{@link #ONNXRUNTIME}: what ONNX Runtime's CPU provider turns into integer kernels
 * (QLinearConv, QLinearMatMul, QGemm, on VNNI where the CPU has it): the segment's constant
 * folding and Conv+BatchNorm/Add fusions first (ONNX Runtime's basic optimisations, so weights
 * and biases are single constants), then per-channel int8 weight initializers with a
 * DequantizeLinear, int32 biases, and a Q/DQ on each quantized op's output, after its ReLU/ReLU6
 * (uint8 activations, ONNX Runtime's own CPU type: zero point 0 after a ReLU, so ONNX Runtime
 * drops the activation into the kernel, else 128, the levels of symmetric int8).
 */
public enum Int8Layout {
  TENSORRT, ONNXRUNTIME;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
