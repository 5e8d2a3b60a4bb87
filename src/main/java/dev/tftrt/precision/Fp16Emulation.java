package dev.tftrt.precision;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An FP32 model that computes what an FP16 model does on hardware with FP16 storage: FP32
 * kernels, every FP16 value rounded to FP16 (a Cast to FP16 and back) where it is produced, FP16
 * weights widened exactly. ONNX Runtime's CPU provider runs an FP16 model by casting around the
 * kernels it lacks and then drops the FP16 → FP32 → FP16 casts between neighbours, so values
 * between two such ops are never rounded: running the FP16 model itself underestimates the error.
 */
public final class Fp16Emulation {
  private Fp16Emulation() {}

  private static final int FLOAT = ElementTypes.FLOAT;
  private static final int HALF = ElementTypes.FLOAT16;

  public static ModelProto of(ModelProto fp16) {
    GraphProto g = fp16.getGraph();
    Map<String, Integer> types = ElementTypes.infer(g);
    Set<String> names = new HashSet<>();
    for (NodeProto n : g.getNodeList()) names.addAll(n.getOutputList());
    GraphProto.Builder b = g.toBuilder().clearNode().clearInitializer();
    for (TensorProto t : g.getInitializerList()) b.addInitializer(t.getDataType() == HALF ? widen(t) : t);
    for (NodeProto n : g.getNodeList()) {
      NodeProto.Builder nb = n.toBuilder();
      if (n.getOpType().equals("Constant") || n.getOpType().equals("ConstantOfShape")) {
        for (int i = 0; i < nb.getAttributeCount(); i++) {
          AttributeProto a = nb.getAttribute(i);
          if (a.getName().equals("value") && a.getT().getDataType() == HALF) nb.setAttribute(i, a.toBuilder().setT(widen(a.getT())));
        }
        b.addNode(nb);
        continue;
      }
      boolean castToHalf = n.getOpType().equals("Cast") && ElementTypes.attr(n, "to").getI() == HALF;
      java.util.List<NodeProto> after = new java.util.ArrayList<>();
      for (int k = 0; k < n.getOutputCount(); k++) {
        String v = n.getOutput(k);
        if (types.getOrDefault(v, 0) != HALF) continue;
        String h = fresh(v + "__half", names);
        if (castToHalf) {
          nb.setOutput(k, h); // the cast itself rounds; its readers get the value widened back
        } else {
          String raw = fresh(v + "__fp32", names);
          nb.setOutput(k, raw);
          after.add(cast(raw, h, HALF));
        }
        after.add(cast(h, v, FLOAT));
      }
      b.addNode(nb);
      for (NodeProto c : after) b.addNode(c);
    }
    return fp16.toBuilder().setGraph(b).build();
  }

  private static String fresh(String hint, Set<String> names) {
    String n = hint;
    for (int k = 1; !names.add(n); k++) n = hint + "_" + k;
    return n;
  }

  private static NodeProto cast(String in, String out, int to) {
    return NodeProto.newBuilder().setOpType("Cast").setName("emulate/" + out).addInput(in).addOutput(out)
        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(to)).build();
  }

  private static TensorProto widen(TensorProto t) {
    ByteBuffer in = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out = ByteBuffer.allocate(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
    while (in.remaining() >= 2) out.putFloat(Half.toFloat(in.getShort()));
    return t.toBuilder().setDataType(FLOAT).setRawData(ByteString.copyFrom(out.array())).build();
  }
}
