// The JNI side of the TftrtEngine op: from a TensorFlow kernel thread into the Java backend and
// back (dev.tftrt.runtime.engine.EngineBridge holds the Java half).
//
// Why plain JNI and not JavaCPP (which the design names): this library is opened twice by the
// JVM process, first by TensorFlow (TF_LoadLibrary, so that the op registers) and then by
// System.load (so that the JVM binds EngineBridge's native methods and calls JNI_OnLoad). Both
// open the same file, so they share one copy of this code and its globals. With JavaCPP the
// bridge would be C++ that JavaCPP's Builder generates from annotated Java classes after javac
// runs, usually as a second library that would then have to find this one's globals at run
// time, and callbacks into Java would go through its FunctionPointer machinery. Plain JNI is one
// library built by CMake alone, with five entry points and the per-thread attach/detach in plain
// sight below.
//
// Per call (Compute): one JNI upcall, EngineBridge.call(slot, handle, inputs, meta), where
// `inputs` are direct ByteBuffers over TensorFlow's own input memory (no copy) and `meta` holds
// dtypes and shapes. The backend asks for each output through nativeAllocateOutput, which
// allocates it in the kernel context (TF_AllocateOutput) and returns a direct ByteBuffer over
// that memory, so the backend writes the result where TensorFlow reads it (no copy). Errors
// come back through nativeFail, never as exceptions across this boundary.
#include <jni.h>
#include <unistd.h>
#include <cstdio>

#include <atomic>
#include <climits>
#include <cstdint>
#include <string>

#include "engine.h"

namespace tftrt {
namespace {

// The bridge's ABI: EngineBridge checks it (a stale library next to newer classes fails clearly).
constexpr jint kBridgeVersion = 2;

JavaVM* g_vm = nullptr;
std::atomic<bool> g_ready{false};
jclass g_bridge = nullptr;         // dev/tftrt/runtime/engine/EngineBridge
jclass g_byte_buffer = nullptr;    // java/nio/ByteBuffer
jclass g_illegal_argument = nullptr;
jclass g_illegal_state = nullptr;
jmethodID g_bind = nullptr;        // static int bind(long, String, byte[])
jmethodID g_call = nullptr;        // static void call(int, long, ByteBuffer[], long[])
jmethodID g_release = nullptr;     // static void release(int)
jmethodID g_native_runner = nullptr;  // static long nativeRunner(int)
jmethodID g_to_string = nullptr;   // Object.toString()

// A thread TensorFlow created is attached to the JVM (as a daemon, so it never holds the JVM
// up) the first time it runs an engine node, and detached when it ends. Threads that were
// already attached (Java threads, or natives attached by someone else) are left as they are.
struct ThreadAttachment {
  bool attached_here = false;
  ~ThreadAttachment() {
    if (attached_here && g_vm != nullptr) g_vm->DetachCurrentThread();
  }
};
thread_local ThreadAttachment t_attachment;

JNIEnv* CurrentEnv(Call* call) {
  if (g_vm == nullptr || !g_ready.load(std::memory_order_acquire)) {
    call->Fail(TF_FAILED_PRECONDITION,
               "the TftrtEngine op's Java side is not initialised: load the op with "
               "dev.tftrt.runtime.engine.EngineOp.load(), not TensorFlow.loadLibrary alone");
    return nullptr;
  }
  JNIEnv* env = nullptr;
  jint rc = g_vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8);
  if (rc == JNI_OK) return env;
  if (rc == JNI_EDETACHED) {
    JavaVMAttachArgs args;
    args.version = JNI_VERSION_1_8;
    args.name = const_cast<char*>("tftrt-engine");
    args.group = nullptr;
    rc = g_vm->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&env), &args);
    if (rc == JNI_OK) {
      t_attachment.attached_here = true;
      return env;
    }
  }
  call->Fail(TF_UNAVAILABLE, "cannot attach a TensorFlow thread to the JVM (JNI error " +
                                 std::to_string(rc) + ")");
  return nullptr;
}

std::string JavaString(JNIEnv* env, jstring s) {
  if (s == nullptr) return std::string();
  const char* chars = env->GetStringUTFChars(s, nullptr);
  if (chars == nullptr) {
    env->ExceptionClear();
    return std::string("(unreadable message)");
  }
  std::string out(chars);
  env->ReleaseStringUTFChars(s, chars);
  return out;
}

// EngineBridge catches everything its backends throw; this is for what escapes it anyway
// (an OutOfMemoryError while reporting, say). Clears the exception.
void TakePendingException(JNIEnv* env, Call* call, const char* during) {
  jthrowable t = env->ExceptionOccurred();
  if (t == nullptr) return;
  env->ExceptionClear();
  std::string text = "(no description)";
  if (g_to_string != nullptr) {
    auto s = static_cast<jstring>(env->CallObjectMethod(t, g_to_string));
    if (env->ExceptionCheck()) {
      env->ExceptionClear();
    } else {
      text = JavaString(env, s);
    }
  }
  std::string where = call->kernel != nullptr ? "engine node '" + call->kernel->name + "': " : "";
  call->Fail(TF_INTERNAL, where + "Java exception " + during + ": " + text);
}

jclass GlobalClass(JNIEnv* env, const char* name) {
  jclass local = env->FindClass(name);
  if (local == nullptr) return nullptr;
  auto global = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  return global;
}

}  // namespace

int BindKernel(const void* node_def, size_t length, Call* call) {
  JNIEnv* env = CurrentEnv(call);
  if (env == nullptr) return -1;
  if (length > static_cast<size_t>(INT32_MAX)) {
    call->Fail(TF_INVALID_ARGUMENT, "engine node '" + call->kernel->name +
                                        "': its NodeDef is larger than 2 GiB");
    return -1;
  }
  if (env->PushLocalFrame(8) != JNI_OK) {
    TakePendingException(env, call, "while binding the node");
    return -1;
  }
  int slot = -1;
  jstring name = env->NewStringUTF(call->kernel->name.c_str());
  jbyteArray bytes = name == nullptr ? nullptr : env->NewByteArray(static_cast<jsize>(length));
  if (bytes != nullptr) {
    env->SetByteArrayRegion(bytes, 0, static_cast<jsize>(length),
                            static_cast<const jbyte*>(node_def));
    slot = env->CallStaticIntMethod(g_bridge, g_bind, reinterpret_cast<jlong>(call), name, bytes);
  }
  TakePendingException(env, call, "while binding the node");
  env->PopLocalFrame(nullptr);
  if (call->code == TF_OK && slot < 0) {
    call->Fail(TF_INTERNAL, "engine node '" + call->kernel->name + "': no slot from Java");
  }
  return call->code == TF_OK ? slot : -1;
}

void InvokeKernel(Call* call) {
  JNIEnv* env = CurrentEnv(call);
  if (env == nullptr) return;
  const jsize n = static_cast<jsize>(call->inputs.size());
  // Local references made on a thread attached from native code live until it detaches, so
  // every call runs inside its own local frame.
  if (env->PushLocalFrame(n + 8) != JNI_OK) {
    TakePendingException(env, call, "while preparing the call");
    return;
  }
  // meta: for each input, dtype, rank, then its dims.
  jsize meta_len = 0;
  for (TF_Tensor* t : call->inputs) meta_len += 2 + TF_NumDims(t);
  jlong meta_stack[64];
  std::vector<jlong> meta_heap;
  jlong* meta = meta_stack;
  if (meta_len > 64) {
    meta_heap.resize(static_cast<size_t>(meta_len));
    meta = meta_heap.data();
  }
  jobjectArray inputs = env->NewObjectArray(n, g_byte_buffer, nullptr);
  jlongArray meta_array = inputs == nullptr ? nullptr : env->NewLongArray(meta_len);
  if (meta_array != nullptr) {
    jsize at = 0;
    for (jsize i = 0; i < n && call->code == TF_OK; ++i) {
      TF_Tensor* t = call->inputs[i];
      const int rank = TF_NumDims(t);
      meta[at++] = static_cast<jlong>(TF_TensorType(t));
      meta[at++] = rank;
      for (int d = 0; d < rank; ++d) meta[at++] = TF_Dim(t, d);
      const size_t bytes = TF_TensorByteSize(t);
      if (bytes == 0) continue;  // Java sees null and uses an empty buffer
      if (TF_DataTypeSize(TF_TensorType(t)) == 0) {
        call->Fail(TF_INVALID_ARGUMENT,
                   "engine node '" + call->kernel->name + "': input " + std::to_string(i) +
                       " has dtype " + std::to_string(static_cast<int>(TF_TensorType(t))) +
                       ", which has no fixed element size; engine inputs must be numeric or bool");
        break;
      }
      if (bytes > static_cast<size_t>(INT32_MAX)) {
        call->Fail(TF_INVALID_ARGUMENT, "engine node '" + call->kernel->name + "': input " +
                                            std::to_string(i) +
                                            " is larger than 2 GiB, which a Java buffer cannot hold");
        break;
      }
      jobject buffer = env->NewDirectByteBuffer(TF_TensorData(t), static_cast<jlong>(bytes));
      if (buffer == nullptr) break;  // exception pending, taken below
      env->SetObjectArrayElement(inputs, i, buffer);
      env->DeleteLocalRef(buffer);
    }
    if (call->code == TF_OK && !env->ExceptionCheck()) {
      env->SetLongArrayRegion(meta_array, 0, meta_len, meta);
      env->CallStaticVoidMethod(g_bridge, g_call, static_cast<jint>(call->kernel->slot),
                                reinterpret_cast<jlong>(call), inputs, meta_array);
    }
  }
  TakePendingException(env, call, "in the engine call");
  env->PopLocalFrame(nullptr);
}

long long NativeRunnerHandle(const Kernel* kernel) {
  Call scratch;
  scratch.kernel = kernel;
  JNIEnv* env = CurrentEnv(&scratch);
  if (env == nullptr) return -1;
  jlong handle = env->CallStaticLongMethod(g_bridge, g_native_runner, static_cast<jint>(kernel->slot));
  if (env->ExceptionCheck()) {
    env->ExceptionClear();
    return -1;
  }
  return static_cast<long long>(handle);
}

void ReleaseKernel(int slot) {
  Call scratch;
  JNIEnv* env = CurrentEnv(&scratch);
  if (env == nullptr) return;
  env->CallStaticVoidMethod(g_bridge, g_release, static_cast<jint>(slot));
  if (env->ExceptionCheck()) env->ExceptionClear();
}

}  // namespace tftrt

using tftrt::Call;

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void* /*reserved*/) {
  tftrt::g_vm = vm;
  return JNI_VERSION_1_8;
}

// static native int nativeInit(): caches classes and method ids; returns the bridge version.
JNIEXPORT jint JNICALL Java_dev_tftrt_runtime_engine_EngineBridge_nativeInit(JNIEnv* env,
                                                                            jclass bridge) {
  using namespace tftrt;
  if (g_ready.load(std::memory_order_acquire)) return kBridgeVersion;
  g_bridge = static_cast<jclass>(env->NewGlobalRef(bridge));
  g_byte_buffer = GlobalClass(env, "java/nio/ByteBuffer");
  g_illegal_argument = GlobalClass(env, "java/lang/IllegalArgumentException");
  g_illegal_state = GlobalClass(env, "java/lang/IllegalStateException");
  jclass object = env->FindClass("java/lang/Object");
  if (g_byte_buffer == nullptr || g_illegal_argument == nullptr || g_illegal_state == nullptr ||
      object == nullptr) {
    return -1;  // exception pending
  }
  g_to_string = env->GetMethodID(object, "toString", "()Ljava/lang/String;");
  g_bind = env->GetStaticMethodID(bridge, "bind", "(JLjava/lang/String;[B)I");
  g_call = env->GetStaticMethodID(bridge, "call", "(IJ[Ljava/nio/ByteBuffer;[J)V");
  g_release = env->GetStaticMethodID(bridge, "release", "(I)V");
  g_native_runner = env->GetStaticMethodID(bridge, "nativeRunner", "(I)J");
  if (g_to_string == nullptr || g_bind == nullptr || g_call == nullptr || g_release == nullptr ||
      g_native_runner == nullptr) {
    return -1;  // NoSuchMethodError pending
  }
  g_ready.store(true, std::memory_order_release);
  return kBridgeVersion;
}

// static native void nativeExit(int code): ends the process at once, without the C++ static
// destructors that exit() runs. An interrupted tftrt has cleaned up already; TensorFlow's
// destructors racing its still-running threads are what crashed it at exit (SIGSEGV).
JNIEXPORT void JNICALL Java_dev_tftrt_runtime_engine_EngineBridge_nativeExit(JNIEnv*, jclass,
                                                                            jint code) {
  std::fflush(nullptr);
  _exit(code);
}

// static native void nativeFail(long handle, int code, String message)
JNIEXPORT void JNICALL Java_dev_tftrt_runtime_engine_EngineBridge_nativeFail(
    JNIEnv* env, jclass, jlong handle, jint code, jstring message) {
  auto* call = reinterpret_cast<Call*>(handle);
  TF_Code c = (code > 0 && code <= 16) ? static_cast<TF_Code>(code) : TF_INTERNAL;
  call->Fail(c, tftrt::JavaString(env, message));
}

// static native ByteBuffer nativeAllocateOutput(long handle, int index, long[] dims):
// allocates output `index` in the kernel context and returns a direct buffer over it (null for
// an empty tensor; Java sets the byte order). Throws IllegalArgumentException or
// IllegalStateException; Java turns those into the call's error.
JNIEXPORT jobject JNICALL Java_dev_tftrt_runtime_engine_EngineBridge_nativeAllocateOutput(
    JNIEnv* env, jclass, jlong handle, jint index, jlongArray dims_array) {
  using namespace tftrt;
  auto* call = reinterpret_cast<Call*>(handle);
  if (call->ctx == nullptr) {
    env->ThrowNew(g_illegal_state, "outputs can only be allocated during a call");
    return nullptr;
  }
  const std::string where = "engine node '" + call->kernel->name + "': output " +
                            std::to_string(index) + ": ";
  if (index < 0 || static_cast<size_t>(index) >= call->outputs.size()) {
    env->ThrowNew(g_illegal_argument, ("engine node '" + call->kernel->name + "' has " +
                                       std::to_string(call->outputs.size()) +
                                       " outputs, there is no output " + std::to_string(index))
                                          .c_str());
    return nullptr;
  }
  if (call->outputs[index] != nullptr) {
    env->ThrowNew(g_illegal_state, (where + "already allocated").c_str());
    return nullptr;
  }
  const jsize rank = env->GetArrayLength(dims_array);
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  env->GetLongArrayRegion(dims_array, 0, rank, reinterpret_cast<jlong*>(dims.data()));
  const TF_DataType dtype = call->kernel->output_types[index];
  const size_t element_size = TF_DataTypeSize(dtype);
  uint64_t elements = 1;
  for (int64_t d : dims) {
    if (d < 0) {
      env->ThrowNew(g_illegal_argument, (where + "a dimension is negative").c_str());
      return nullptr;
    }
    if (d != 0 && elements > static_cast<uint64_t>(INT32_MAX) / static_cast<uint64_t>(d)) {
      elements = static_cast<uint64_t>(INT32_MAX) + 1;  // too big; reported below
    } else {
      elements *= static_cast<uint64_t>(d);
    }
  }
  if (elements * element_size > static_cast<uint64_t>(INT32_MAX)) {
    env->ThrowNew(g_illegal_argument,
                  (where + "larger than 2 GiB, which a Java buffer cannot hold").c_str());
    return nullptr;
  }
  const size_t bytes = static_cast<size_t>(elements * element_size);
  TF_Status* status = TF_NewStatus();
  TF_Tensor* t = TF_AllocateOutput(call->ctx, index, dtype, dims.data(), static_cast<int>(rank),
                                   bytes, status);
  if (TF_GetCode(status) != TF_OK || t == nullptr) {
    std::string message = where + "allocation failed: " + TF_Message(status);
    TF_DeleteStatus(status);
    if (t != nullptr) TF_DeleteTensor(t);
    env->ThrowNew(g_illegal_state, message.c_str());
    return nullptr;
  }
  TF_DeleteStatus(status);
  call->outputs[index] = t;
  if (bytes == 0) return nullptr;
  return env->NewDirectByteBuffer(TF_TensorData(t), static_cast<jlong>(bytes));
}

}  // extern "C"
