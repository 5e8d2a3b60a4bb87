package dev.tftrt.testing;

import dev.tftrt.runtime.OnnxRunner;

/** A program that loads ONNX Runtime the way tftrt does and exits: what it leaves in java.io.tmpdir is tested. */
public final class LoadOnnxRuntime {
  private LoadOnnxRuntime() {}

  public static void main(String[] args) {
    System.out.println("onnxruntime " + dev.tftrt.runtime.ort.Ort.environment().getVersion());
  }
}
