package dev.tftrt.runtime.ort;

import ai.onnxruntime.OrtException;

/**
 * ONNX Runtime's failures in tftrt's words. Its own text ("Error code - ORT_INVALID_PROTOBUF -
 * message: Load model from memory failed:Protobuf parsing failed.") names its internals and
 * exception codes; the user gets what it means, and --verbose shows the original as the cause.
 */
public final class OrtErrors {
  private OrtErrors() {}

  /** Why ONNX Runtime failed, as the end of a sentence (no trailing period). */
  public static String why(Throwable e) {
    if (!(e instanceof OrtException o)) return "ONNX Runtime failed unexpectedly";
    switch (o.getCode()) {
      case ORT_INVALID_PROTOBUF: return "it could not be parsed (truncated or corrupt)";
      case ORT_INVALID_GRAPH: return "its graph is not valid ONNX";
      case ORT_NOT_IMPLEMENTED: return "it uses an operator or type ONNX Runtime does not implement";
      case ORT_INVALID_ARGUMENT: return "the inputs do not match what it expects (dtype or shape)";
      case ORT_NO_MODEL: case ORT_NO_SUCHFILE: case ORT_NOT_FOUND: return "it holds no model";
      default: return "ONNX Runtime could not execute it";
    }
  }
}
