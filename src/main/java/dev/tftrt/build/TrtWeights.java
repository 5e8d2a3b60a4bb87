package dev.tftrt.build;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * The weights TensorRT cannot take as they are stored. A converted model keeps 8-bit weights
 * 8-bit (DequantizeLinear on an 8-bit initializer, as TensorFlow's Dequantize had them), but
 * TensorRT's ONNX parser accepts a DequantizeLinear only on int8 with zero point 0: uint8 or a
 * non-zero zero point it rejects. Before a build, each such DequantizeLinear of initializers
 * becomes the float32 initializer of its values, computed as ONNX defines them ((q - zero
 * point) * scale, per tensor or per axis); the stored ONNX, and so the engine key, stay as they are.
 */
public final class TrtWeights {
  private TrtWeights() {}

  /** The ONNX TensorRT builds: {@code onnx} itself when nothing needs materialising. */
  public static byte[] forTensorRt(byte[] onnx) {
    ModelProto m;
    try {
      m = ModelProto.parseFrom(onnx);
    } catch (InvalidProtocolBufferException e) {
      return onnx; // the parser gives its own sentence
    }
    GraphProto g = m.getGraph();
    Map<String, TensorProto> inits = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) inits.put(t.getName(), t);
    GraphProto.Builder out = g.toBuilder().clearNode();
    int changed = 0;
    for (NodeProto n : g.getNodeList()) {
      if (refused(n, inits)) {
        out.addInitializer(dequantize(n, inits));
        changed++;
      } else {
        out.addNode(n);
      }
    }
    if (changed == 0) return onnx;
    return m.toBuilder().setGraph(out).build().toByteArray();
  }

  /** A DequantizeLinear of initializers that TensorRT refuses: uint8, or a non-zero zero point. */
  static boolean refused(NodeProto n, Map<String, TensorProto> inits) {
    if (!n.getOpType().equals("DequantizeLinear") || !n.getDomain().isEmpty() || n.getInputCount() < 2) return false;
    for (String in : n.getInputList()) if (!inits.containsKey(in)) return false;
    TensorProto q = inits.get(n.getInput(0));
    if (q.getDataType() == TensorProto.DataType.UINT8_VALUE) return true;
    if (q.getDataType() != TensorProto.DataType.INT8_VALUE || n.getInputCount() < 3) return false;
    for (byte z : raw(inits.get(n.getInput(2))).toByteArray()) if (z != 0) return true;
    return false;
  }

  private static TensorProto dequantize(NodeProto n, Map<String, TensorProto> inits) {
    TensorProto q = inits.get(n.getInput(0));
    TensorProto scale = inits.get(n.getInput(1));
    boolean unsigned = q.getDataType() == TensorProto.DataType.UINT8_VALUE;
    byte[] levels = raw(q).toByteArray();
    float[] s = floats(scale);
    byte[] zp = n.getInputCount() > 2 ? raw(inits.get(n.getInput(2))).toByteArray() : new byte[s.length];
    if (scale.getDataType() != TensorProto.DataType.FLOAT_VALUE || zp.length != s.length) {
      throw new TftrtException("DequantizeLinear " + n.getName() + " has scales and zero points TensorRT's weights cannot be made of.");
    }
    // per axis: the channel of element i is (i / inner) % channels
    int rank = q.getDimsCount();
    long axis = 0;
    for (AttributeProto a : n.getAttributeList()) if (a.getName().equals("axis")) axis = a.getI();
    if (axis < 0) axis += rank;
    long inner = 1;
    for (int d = (int) axis + 1; d < rank; d++) inner *= q.getDims(d);
    ByteBuffer b = ByteBuffer.allocate(4 * levels.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < levels.length; i++) {
      int c = s.length == 1 ? 0 : (int) ((i / inner) % s.length);
      int v = unsigned ? levels[i] & 0xff : levels[i];
      int z = unsigned ? zp[c] & 0xff : zp[c];
      b.putFloat(4 * i, (float) (v - z) * s[c]);
    }
    return TensorProto.newBuilder().setName(n.getOutput(0)).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addAllDims(q.getDimsList()).setRawData(ByteString.copyFrom(b.array())).build();
  }

  private static ByteString raw(TensorProto t) {
    if (!t.getRawData().isEmpty()) return t.getRawData();
    ByteString.Output o = ByteString.newOutput();
    for (int v : t.getInt32DataList()) o.write(v);
    return o.toByteString();
  }

  private static float[] floats(TensorProto t) {
    if (t.getRawData().isEmpty()) {
      float[] r = new float[t.getFloatDataCount()];
      for (int i = 0; i < r.length; i++) r[i] = t.getFloatData(i);
      return r;
    }
    ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] r = new float[b.remaining() / 4];
    for (int i = 0; i < r.length; i++) r[i] = b.getFloat(4 * i);
    return r;
  }
}
