package dev.tftrt.model;

import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.util.Memory;
import java.util.Iterator;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Checks a GraphDef before TensorFlow sees it. TensorFlow trusts some of a graph's contents and
 * aborts the whole process (an internal CHECK) or tries to allocate terabytes when they are
 * wrong; here each such problem becomes one sentence naming the node: a constant whose value's
 * dtype differs from its dtype attribute, whose content does not fill its shape, whose shape is
 * not a shape, or whose size exceeds the machine's memory; shape attributes with dimensions
 * below -1; attributes whose kind is not the one the op's definition declares.
 */
public final class GraphChecks {
  private GraphChecks() {}

  /** Refuses the first problem found; what names the graph ("model.pb", "segment of ..."). */
  public static void check(GraphDef g, String what) {
    long memory = Memory.physical();
    for (NodeDef n : g.getNodeList()) checkNode(n, what + ": node '" + n.getName() + "'", memory);
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      String fn = f.getSignature().getName();
      for (NodeDef n : f.getNodeDefList()) {
        checkNode(n, what + ": node '" + n.getName() + "' of function '" + fn + "'", memory);
      }
    }
  }

  /**
   * Refuses a graph TensorFlow has imported when an output whose shape it inferred would need
   * more memory than the machine has. Unknown dimensions count as 1, so the figure is a lower
   * bound and a refusal is never wrong; a Fill of [100000, 100000] floats is caught here, before
   * a session spends minutes failing to allocate it.
   */
  public static void checkInferredSizes(Graph graph, String what) {
    long memory = Memory.physical();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
      GraphOperation op = it.next();
      for (int i = 0; i < op.numOutputs(); i++) {
        Output<?> out = op.output(i);
        if (out.shape().isUnknown()) continue;
        long[] dims = out.shape().asArray();
        long n = 1;
        for (long d : dims) n = d < 0 ? n : mulOrMinus(n, d);
        long bytes = Memory.bytes(n, itemSizeOrOne(out.dataType()));
        if (bytes < 0 || bytes > memory) {
          throw new TftrtException(what + ": node '" + op.name() + "' (" + op.type() + ") would produce a "
              + DTypes.name(out.dataType()) + " tensor of shape " + java.util.Arrays.toString(dims) + " ("
              + (bytes < 0 ? "more bytes than a long counts" : Memory.human(bytes)) + "), more than this machine's "
              + Memory.human(memory) + " of memory.");
        }
      }
    }
  }

  /**
   * Imports g only to weigh what it would allocate: after the user's input shapes are set,
   * inferred shapes become concrete (DeepLab at 100000x100000) and are refused before constant
   * folding or a session tries to allocate them.
   */
  public static void checkAtShapes(GraphDef g, String what) {
    // Recorded _output_shapes describe the graph at its old input shapes; inference needs none.
    GraphDef.Builder b = g.toBuilder();
    for (NodeDef.Builder n : b.getNodeBuilderList()) n.removeAttr("_output_shapes");
    TfModel.importGraph(b.build(), what).close();
  }

  private static void checkNode(NodeDef n, String where, long memory) {
    OpDef def = OpDefs.get(n.getOp());
    for (Map.Entry<String, AttrValue> e : n.getAttrMap().entrySet()) {
      AttrValue v = e.getValue();
      if (def != null) checkKind(def, e.getKey(), v, where + " (" + n.getOp() + ")");
      String attr = where + " (" + n.getOp() + ") attribute '" + e.getKey() + "'";
      if (v.hasShape()) checkShape(v.getShape(), attr);
      if (v.hasTensor()) checkTensor(v.getTensor(), attr, memory);
      if (v.hasList()) {
        for (TensorShapeProto s : v.getList().getShapeList()) checkShape(s, attr);
        for (TensorProto t : v.getList().getTensorList()) checkTensor(t, attr, memory);
      }
    }
    if (n.getOp().equals("Const")) {
      AttrValue dtype = n.getAttrMap().get("dtype");
      AttrValue value = n.getAttrMap().get("value");
      if (dtype != null && value != null && value.hasTensor() && dtype.getType() != value.getTensor().getDtype()) {
        throw new TftrtException(where + " (Const) holds " + article(DTypes.name(value.getTensor().getDtype()))
            + " value but declares dtype " + DTypes.name(dtype.getType()) + ".");
      }
    }
  }

  /** TensorFlow CHECK-fails on some attributes of the wrong kind (a list where a type belongs). */
  private static void checkKind(OpDef def, String name, AttrValue v, String where) {
    for (OpDef.AttrDef a : def.getAttrList()) {
      if (!a.getName().equals(name)) continue;
      AttrValue.ValueCase want = kindOf(a.getType());
      AttrValue.ValueCase got = v.getValueCase();
      if (want != null && got != want && got != AttrValue.ValueCase.PLACEHOLDER
          && got != AttrValue.ValueCase.VALUE_NOT_SET) {
        throw new TftrtException(where + " has attribute '" + name + "' of the wrong kind: the op takes "
            + a.getType() + ".");
      }
      return;
    }
  }

  private static AttrValue.ValueCase kindOf(String type) {
    if (type.startsWith("list(")) return AttrValue.ValueCase.LIST;
    switch (type) {
      case "string": return AttrValue.ValueCase.S;
      case "int": return AttrValue.ValueCase.I;
      case "float": return AttrValue.ValueCase.F;
      case "bool": return AttrValue.ValueCase.B;
      case "type": return AttrValue.ValueCase.TYPE;
      case "shape": return AttrValue.ValueCase.SHAPE;
      case "tensor": return AttrValue.ValueCase.TENSOR;
      case "func": return AttrValue.ValueCase.FUNC;
      default: return null;
    }
  }

  private static void checkShape(TensorShapeProto s, String where) {
    for (TensorShapeProto.Dim d : s.getDimList()) {
      if (d.getSize() < -1) {
        throw new TftrtException(where + " has a shape with dimension " + d.getSize()
            + " (sizes are -1 for unknown, else 0 or more).");
      }
    }
  }

  private static void checkTensor(TensorProto t, String where, long memory) {
    DataType dt = t.getDtype();
    if (dt == DataType.UNRECOGNIZED || dt == DataType.DT_INVALID || dt.getNumber() > 100) {
      throw new TftrtException(where + " holds a tensor without a valid dtype.");
    }
    TensorShapeProto s = t.getTensorShape();
    if (s.getUnknownRank()) throw new TftrtException(where + " holds a tensor whose shape is unknown.");
    long n = 1;
    for (TensorShapeProto.Dim d : s.getDimList()) {
      if (d.getSize() < 0) {
        throw new TftrtException(where + " holds a tensor with dimension " + d.getSize()
            + " (a tensor's sizes are 0 or more).");
      }
      n = mulOrMinus(n, d.getSize());
    }
    long[] dims = s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
    String shape = DTypes.name(dt) + " tensor of shape " + java.util.Arrays.toString(dims);
    long item = itemSize(dt);
    long bytes = Memory.bytes(n, item > 0 ? item : 1);
    if (bytes < 0 || bytes > memory) {
      throw new TftrtException(where + " holds " + article(shape) + " ("
          + (bytes < 0 ? "more bytes than a long counts" : Memory.human(bytes))
          + "), more than this machine's " + Memory.human(memory) + " of memory.");
    }
    if (!t.getTensorContent().isEmpty()) {
      if (item <= 0) return; // strings as a length-prefixed list: TensorFlow checks those itself
      if (t.getTensorContent().size() != bytes) {
        throw new TftrtException(where + " holds " + article(shape) + " with " + t.getTensorContent().size()
            + " bytes of content; it needs " + bytes + ".");
      }
      return;
    }
    long values = valueCount(t);
    if (values > n) {
      throw new TftrtException(where + " holds " + article(shape) + " with " + values + " values; it has room for " + n + ".");
    }
    if (values < 0) {
      throw new TftrtException(where + " holds " + article(shape) + " whose complex values come in an odd number of parts.");
    }
  }

  private static long mulOrMinus(long a, long b) {
    if (a < 0) return -1;
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      return -1;
    }
  }

  /** Bytes per element for dtypes stored as raw content; -1 for strings, resources, variants. */
  static long itemSize(DataType dt) {
    switch (dt) {
      case DT_FLOAT: case DT_INT32: case DT_UINT32: case DT_QINT32: return 4;
      case DT_DOUBLE: case DT_INT64: case DT_UINT64: case DT_COMPLEX64: return 8;
      case DT_COMPLEX128: return 16;
      case DT_HALF: case DT_BFLOAT16: case DT_INT16: case DT_UINT16: case DT_QINT16: case DT_QUINT16: return 2;
      case DT_INT8: case DT_UINT8: case DT_BOOL: case DT_QINT8: case DT_QUINT8: return 1;
      default: return -1;
    }
  }

  private static long itemSizeOrOne(DataType dt) {
    long s = itemSize(dt);
    return s > 0 ? s : 1;
  }

  /** How many elements the typed *_val field of t's dtype gives (-1: an odd complex count). */
  private static long valueCount(TensorProto t) {
    switch (t.getDtype()) {
      case DT_FLOAT: return t.getFloatValCount();
      case DT_DOUBLE: return t.getDoubleValCount();
      case DT_HALF: case DT_BFLOAT16: return t.getHalfValCount();
      case DT_INT32: case DT_INT16: case DT_INT8: case DT_UINT8: case DT_UINT16:
      case DT_QINT8: case DT_QUINT8: case DT_QINT16: case DT_QUINT16: case DT_QINT32:
        return t.getIntValCount();
      case DT_INT64: return t.getInt64ValCount();
      case DT_UINT32: return t.getUint32ValCount();
      case DT_UINT64: return t.getUint64ValCount();
      case DT_BOOL: return t.getBoolValCount();
      case DT_STRING: return t.getStringValCount();
      case DT_COMPLEX64: return t.getScomplexValCount() % 2 != 0 ? -1 : t.getScomplexValCount() / 2;
      case DT_COMPLEX128: return t.getDcomplexValCount() % 2 != 0 ? -1 : t.getDcomplexValCount() / 2;
      case DT_RESOURCE: return t.getResourceHandleValCount();
      case DT_VARIANT: return t.getVariantValCount();
      default: return 0;
    }
  }

  /** "a float32 ...", "an int64 ...": the article a dtype name takes in a sentence. */
  static String article(String phrase) {
    return ("aeio".indexOf(phrase.isEmpty() ? 'x' : phrase.charAt(0)) >= 0 ? "an " : "a ") + phrase;
  }
}
