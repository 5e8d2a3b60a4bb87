package dev.tftrt.fuzz;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;

/**
 * Structure-aware GraphDef mutations: the graph still parses, but a field a reader trusts is
 * wrong (a Const's dtype or size, a shape, an input, an attribute, the versions).
 */
public final class GraphMutator {
  private GraphMutator() {}

  private static final DataType[] DTYPES = {
      DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32, DataType.DT_INT64, DataType.DT_UINT8,
      DataType.DT_INT8, DataType.DT_BOOL, DataType.DT_STRING, DataType.DT_HALF, DataType.DT_BFLOAT16,
      DataType.DT_COMPLEX64, DataType.DT_RESOURCE, DataType.DT_VARIANT, DataType.DT_QINT8,
      DataType.DT_FLOAT_REF, DataType.DT_INVALID};
  private static final String[] OPS = {
      "Const", "Identity", "Placeholder", "MatMul", "Conv2D", "Reshape", "Add", "NoSuchOp", "While",
      "StatefulPartitionedCall", "VariableV2", "VarHandleOp", "Fill", "TftrtEngine", "Assert", ""};
  private static final long[] DIMS = {-1, 0, 1, 2, 3, 7, 100000000L, 1L << 31, 1L << 40, -5};

  /** One to three structural mutations of the graph. */
  public static GraphDef mutate(GraphDef g, Random r, StringBuilder d) {
    GraphDef.Builder b = g.toBuilder();
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) once(b, r, d);
    return b.build();
  }

  static void once(GraphDef.Builder g, Random r, StringBuilder d) {
    if (g.getNodeCount() == 0 || r.nextInt(20) == 0) {
      versions(g, r, d);
      return;
    }
    int idx = pick(g, r);
    NodeDef.Builder n = g.getNodeBuilder(idx);
    String name = n.getName();
    switch (r.nextInt(14)) {
      case 0 -> {
        String key = n.getAttrMap().containsKey("dtype") ? "dtype" : n.getAttrMap().containsKey("T") ? "T" : "dtype";
        DataType t = DTYPES[r.nextInt(DTYPES.length)];
        n.putAttr(key, AttrValue.newBuilder().setType(t).build());
        d.append("node ").append(name).append(": attr ").append(key).append("=").append(t).append("; ");
      }
      case 1 -> {
        TensorProto.Builder t = tensor(n);
        DataType dt = DTYPES[r.nextInt(DTYPES.length)];
        t.setDtype(dt);
        n.putAttr("value", AttrValue.newBuilder().setTensor(t).build());
        d.append("node ").append(name).append(": value dtype ").append(dt).append("; ");
      }
      case 2 -> {
        TensorProto.Builder t = tensor(n);
        t.setTensorShape(shape(r));
        n.putAttr("value", AttrValue.newBuilder().setTensor(t).build());
        d.append("node ").append(name).append(": value shape ").append(t.getTensorShape().getDimList().stream()
            .map(x -> Long.toString(x.getSize())).toList()).append("; ");
      }
      case 3 -> {
        TensorProto.Builder t = tensor(n);
        ByteString c = t.getTensorContent();
        int len = c.isEmpty() ? 0 : r.nextInt(c.size());
        if (r.nextBoolean()) t.setTensorContent(c.substring(0, len));
        else t.setTensorContent(c.concat(ByteString.copyFrom(ByteMutator.random(r, 1 + r.nextInt(64)))));
        n.putAttr("value", AttrValue.newBuilder().setTensor(t).build());
        d.append("node ").append(name).append(": tensor_content resized; ");
      }
      case 4 -> {
        n.putAttr("shape", AttrValue.newBuilder().setShape(shape(r)).build());
        d.append("node ").append(name).append(": attr shape changed; ");
      }
      case 5 -> {
        List<String> keys = new ArrayList<>(n.getAttrMap().keySet());
        if (keys.isEmpty()) return;
        String k = keys.get(r.nextInt(keys.size()));
        n.removeAttr(k);
        d.append("node ").append(name).append(": attr ").append(k).append(" removed; ");
      }
      case 6 -> {
        String target = switch (r.nextInt(5)) {
          case 0 -> "no_such_node";
          case 1 -> name; // a cycle through itself
          case 2 -> g.getNode(r.nextInt(g.getNodeCount())).getName() + ":" + (r.nextInt(3) == 0 ? 99 : 1);
          case 3 -> "^" + g.getNode(r.nextInt(g.getNodeCount())).getName();
          default -> g.getNode(r.nextInt(g.getNodeCount())).getName();
        };
        if (n.getInputCount() > 0 && r.nextBoolean()) n.setInput(r.nextInt(n.getInputCount()), target);
        else n.addInput(target);
        d.append("node ").append(name).append(": input ").append(target).append("; ");
      }
      case 7 -> {
        String other = g.getNode(r.nextInt(g.getNodeCount())).getName();
        String newName = r.nextBoolean() ? other : r.nextBoolean() ? "" : name + "/x:0";
        n.setName(newName);
        d.append("node ").append(name).append(": renamed '").append(newName).append("'; ");
      }
      case 8 -> {
        String op = OPS[r.nextInt(OPS.length)];
        n.setOp(op);
        d.append("node ").append(name).append(": op ").append(op).append("; ");
      }
      case 9 -> {
        g.removeNode(idx);
        d.append("node ").append(name).append(": removed; ");
      }
      case 10 -> {
        String dev = r.nextBoolean() ? "/device:GPU:7" : "/job:ps/replica:0/task:3/device:CPU:0";
        n.setDevice(dev);
        d.append("node ").append(name).append(": device ").append(dev).append("; ");
      }
      case 11 -> {
        String[] keys = {"N", "axis", "strides", "ksize", "Tidx", "num_split", "data_format", "padding", "transpose_a"};
        String k = keys[r.nextInt(keys.length)];
        AttrValue v = switch (r.nextInt(4)) {
          case 0 -> AttrValue.newBuilder().setI(r.nextBoolean() ? Long.MAX_VALUE : -1).build();
          case 1 -> AttrValue.newBuilder().setS(ByteString.copyFromUtf8("NCDHW")).build();
          case 2 -> AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addI(1).addI(0)).build();
          default -> AttrValue.newBuilder().setB(true).build();
        };
        n.putAttr(k, v);
        d.append("node ").append(name).append(": attr ").append(k).append(" set; ");
      }
      case 12 -> {
        // float_val/int_val repeated past the shape's element count, or a huge scalar shape fill.
        TensorProto.Builder t = tensor(n);
        int count = 1 + r.nextInt(5);
        for (int i = 0; i < count; i++) t.addFloatVal(r.nextFloat()).addIntVal(r.nextInt());
        n.putAttr("value", AttrValue.newBuilder().setTensor(t).build());
        d.append("node ").append(name).append(": value gets ").append(count).append(" extra vals; ");
      }
      default -> {
        NodeDef copy = n.build().toBuilder().setName(name + "_dup").build();
        g.addNode(copy);
        d.append("node ").append(name).append(": duplicated; ");
      }
    }
  }

  /** A node, Consts and Placeholders twice as likely: their fields are what readers trust most. */
  static int pick(GraphDef.Builder g, Random r) {
    for (int tries = 0; tries < 3; tries++) {
      int i = r.nextInt(g.getNodeCount());
      String op = g.getNode(i).getOp();
      if (op.equals("Const") || op.equals("Placeholder") || tries == 2) return i;
      if (r.nextBoolean()) return i;
    }
    return r.nextInt(g.getNodeCount());
  }

  static TensorProto.Builder tensor(NodeDef.Builder n) {
    AttrValue v = n.getAttrMap().get("value");
    return v != null && v.hasTensor() ? v.getTensor().toBuilder()
        : TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).addFloatVal(1f);
  }

  static TensorShapeProto shape(Random r) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    if (r.nextInt(8) == 0) return s.setUnknownRank(true).build();
    int rank = r.nextInt(r.nextInt(10) == 0 ? 40 : 6);
    for (int i = 0; i < rank; i++) s.addDim(TensorShapeProto.Dim.newBuilder().setSize(DIMS[r.nextInt(DIMS.length)]));
    return s.build();
  }

  static void versions(GraphDef.Builder g, Random r, StringBuilder d) {
    int producer = new int[] {0, 1, 2000, Integer.MAX_VALUE, -1}[r.nextInt(5)];
    int minConsumer = new int[] {0, 5000, Integer.MAX_VALUE}[r.nextInt(3)];
    g.setVersions(VersionDef.newBuilder().setProducer(producer).setMinConsumer(minConsumer));
    d.append("versions producer=").append(producer).append(" min_consumer=").append(minConsumer).append("; ");
  }

  /** A text GraphDef nested depth levels deep (attr value lists inside lists): parsers must bound depth. */
  public static String deepText(int depth) {
    StringBuilder s = new StringBuilder("node { name: \"x\" op: \"Const\" attr { key: \"value\" value { ");
    for (int i = 0; i < depth; i++) s.append("func { attr { key: \"a\" value { ");
    for (int i = 0; i < depth; i++) s.append("} } } ");
    return s.append("} } }\n").toString();
  }
}
