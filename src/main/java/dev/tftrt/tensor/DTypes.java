package dev.tftrt.tensor;

import dev.tftrt.TftrtException;
import org.tensorflow.proto.DataType;

/** Facts about TensorFlow dtypes that the pipeline needs without loading TensorFlow itself. */
public final class DTypes {
  private DTypes() {}

  /** Bytes per element, or -1 for variable-length types (strings). */
  public static int byteSize(DataType t) {
    switch (t) {
      case DT_FLOAT: case DT_INT32: case DT_UINT32: return 4;
      case DT_DOUBLE: case DT_INT64: case DT_UINT64: return 8;
      case DT_HALF: case DT_BFLOAT16: case DT_INT16: case DT_UINT16: return 2;
      case DT_INT8: case DT_UINT8: case DT_BOOL: return 1;
      case DT_STRING: return -1;
      default: throw new TftrtException("dtype " + name(t) + " is not supported.");
    }
  }

  public static boolean isSupported(DataType t) {
    switch (t) {
      case DT_FLOAT: case DT_INT32: case DT_UINT32: case DT_DOUBLE: case DT_INT64: case DT_UINT64:
      case DT_HALF: case DT_BFLOAT16: case DT_INT16: case DT_UINT16: case DT_INT8: case DT_UINT8:
      case DT_BOOL: case DT_STRING:
        return true;
      default:
        return false;
    }
  }

  public static boolean isFloating(DataType t) {
    return t == DataType.DT_FLOAT || t == DataType.DT_DOUBLE || t == DataType.DT_HALF
        || t == DataType.DT_BFLOAT16;
  }

  public static boolean isInteger(DataType t) {
    switch (t) {
      case DT_INT8: case DT_INT16: case DT_INT32: case DT_INT64:
      case DT_UINT8: case DT_UINT16: case DT_UINT32: case DT_UINT64:
        return true;
      default:
        return false;
    }
  }

  /** Reference dtypes (old-style VariableV2 outputs) map to their value dtype. */
  public static DataType base(DataType t) {
    int n = t.getNumber();
    return n > 100 ? DataType.forNumber(n - 100) : t;
  }

  /** Short lowercase name as users and NumPy know it: float32, int64, string. */
  public static String name(DataType t) {
    switch (t) {
      case DT_FLOAT: return "float32";
      case DT_DOUBLE: return "float64";
      case DT_HALF: return "float16";
      case DT_BFLOAT16: return "bfloat16";
      case DT_INT8: return "int8";
      case DT_INT16: return "int16";
      case DT_INT32: return "int32";
      case DT_INT64: return "int64";
      case DT_UINT8: return "uint8";
      case DT_UINT16: return "uint16";
      case DT_UINT32: return "uint32";
      case DT_UINT64: return "uint64";
      case DT_BOOL: return "bool";
      case DT_STRING: return "string";
      default: return t.name().toLowerCase(java.util.Locale.ROOT).replaceFirst("^dt_", "");
    }
  }

  /** The dtype for a name from {@link #name}, or null. */
  public static DataType fromName(String name) {
    for (DataType t : DataType.values()) {
      if (t != DataType.UNRECOGNIZED && t.getNumber() < 100 && name(t).equals(name)) return t;
    }
    return null;
  }

  /** IEEE 754 binary16 bits to float (Java 17 has no Float.float16ToFloat). */
  public static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    if (exp == 0) {
      if (mant == 0) return Float.intBitsToFloat(sign);
      float v = mant / 1024f / 16384f; // subnormal: mant * 2^-24
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float to IEEE 754 binary16 bits, rounding to nearest even. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = ((bits >>> 23) & 0xff) - 127 + 15;
    int mant = bits & 0x7fffff;
    if (((bits >>> 23) & 0xff) == 0xff) {
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
    }
    if (exp >= 0x1f) return (short) (sign | 0x7c00);
    if (exp <= 0) {
      if (exp < -10) return (short) sign;
      mant |= 0x800000;
      int shift = 14 - exp;
      int half = mant >>> shift;
      int rem = mant & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) != 0)) half++;
      return (short) (sign | half);
    }
    int half = (exp << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) half++;
    return (short) (sign | half);
  }
}
