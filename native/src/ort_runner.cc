// The onnxruntime backend's native fast path. An engine call through Java costs a JNI upcall,
// ONNX Runtime's Java API (an OnnxTensor and a map per input, a result object per output) and
// a JNI call back down to ONNX Runtime: 50-90 µs per call measured inside a real model (the
// KWS LSTM), several times the work of a small engine. The Java backend still creates and owns
// the session (its options, the shared thread pool, its life); it hands this file the session
// and ONNX Runtime's own C API table, and the kernel then runs the session directly over
// TensorFlow's buffers, with no Java on the way.
//
// ONNX Runtime publishes no headers in its Maven jar, so the few entries of its C API table
// (struct OrtApi, an append-only list of function pointers, stable across releases) that are
// used here are declared by position below, and checked against each other once per process
// (CheckTable) before any session is run through them: a table that does not behave as
// expected turns the fast path off, and the Java path is used as before.
#include <jni.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ort_runner.h"

namespace tftrt {
namespace {

using Status = void*;  // OrtStatus*, null for success
using Fn = void (*)();

// Positions in struct OrtApi (onnxruntime_c_api.h, present since its version 1).
enum Entry : int {
  kCreateStatus = 0,
  kGetErrorCode = 1,
  kGetErrorMessage = 2,
  kRun = 9,
  kCreateTensorWithDataAsOrtValue = 49,
  kIsTensor = 50,
  kGetTensorMutableData = 51,
  kGetTensorElementType = 60,
  kGetDimensionsCount = 61,
  kGetDimensions = 62,
  kGetTensorTypeAndShape = 65,
  kCreateCpuMemoryInfo = 69,
  kMemoryInfoGetName = 71,
  kMemoryInfoGetId = 72,
  kReleaseStatus = 93,
  kReleaseMemoryInfo = 94,
  kReleaseValue = 96,
  kReleaseTensorTypeAndShapeInfo = 99,
};

// ONNX Runtime's error codes (OrtErrorCode) that get their own words, as OrtErrors.why does.
constexpr int kOrtInvalidArgument = 2;
constexpr int kOrtNotImplemented = 9;
constexpr int kOrtArenaAllocator = 1;  // OrtAllocatorType
constexpr int kOrtMemTypeDefault = 0;  // OrtMemType
constexpr int kOnnxFloat = 1;          // ONNXTensorElementDataType

struct Api {
  const Fn* table = nullptr;

  template <typename F>
  F at(Entry e) const {
    return reinterpret_cast<F>(table[e]);
  }
  Status MakeStatus(int code, const char* message) const {
    return at<Status (*)(int, const char*)>(kCreateStatus)(code, message);
  }
  int ErrorCode(Status s) const { return at<int (*)(const void*)>(kGetErrorCode)(s); }
  const char* ErrorMessage(Status s) const { return at<const char* (*)(const void*)>(kGetErrorMessage)(s); }
  void ReleaseStatus(Status s) const { at<void (*)(void*)>(kReleaseStatus)(s); }
  Status Run(void* session, const char* const* in_names, void* const* inputs, size_t n,
             const char* const* out_names, size_t m, void** outputs) const {
    return at<Status (*)(void*, const void*, const char* const*, void* const*, size_t,
                         const char* const*, size_t, void**)>(kRun)(session, nullptr, in_names,
                                                                    inputs, n, out_names, m,
                                                                    outputs);
  }
  Status CreateTensor(const void* info, void* data, size_t bytes, const int64_t* dims,
                      size_t rank, int type, void** out) const {
    return at<Status (*)(const void*, void*, size_t, const int64_t*, size_t, int, void**)>(
        kCreateTensorWithDataAsOrtValue)(info, data, bytes, dims, rank, type, out);
  }
  Status IsTensor(const void* v, int* out) const {
    return at<Status (*)(const void*, int*)>(kIsTensor)(v, out);
  }
  Status MutableData(void* v, void** out) const {
    return at<Status (*)(void*, void**)>(kGetTensorMutableData)(v, out);
  }
  Status TypeAndShape(const void* v, void** out) const {
    return at<Status (*)(const void*, void**)>(kGetTensorTypeAndShape)(v, out);
  }
  Status ElementType(const void* info, int* out) const {
    return at<Status (*)(const void*, int*)>(kGetTensorElementType)(info, out);
  }
  Status DimensionsCount(const void* info, size_t* out) const {
    return at<Status (*)(const void*, size_t*)>(kGetDimensionsCount)(info, out);
  }
  Status Dimensions(const void* info, int64_t* dims, size_t n) const {
    return at<Status (*)(const void*, int64_t*, size_t)>(kGetDimensions)(info, dims, n);
  }
  Status CpuMemoryInfo(void** out) const {
    return at<Status (*)(int, int, void**)>(kCreateCpuMemoryInfo)(kOrtArenaAllocator,
                                                                  kOrtMemTypeDefault, out);
  }
  Status MemoryInfoName(const void* info, const char** out) const {
    return at<Status (*)(const void*, const char**)>(kMemoryInfoGetName)(info, out);
  }
  Status MemoryInfoId(const void* info, int* out) const {
    return at<Status (*)(const void*, int*)>(kMemoryInfoGetId)(info, out);
  }
  void ReleaseMemoryInfo(void* p) const { at<void (*)(void*)>(kReleaseMemoryInfo)(p); }
  void ReleaseValue(void* p) const { at<void (*)(void*)>(kReleaseValue)(p); }
  void ReleaseTypeAndShape(void* p) const { at<void (*)(void*)>(kReleaseTensorTypeAndShapeInfo)(p); }
};

// True when status is a success; else releases it. For the checks only.
bool Ok(const Api& api, Status s) {
  if (s == nullptr) return true;
  api.ReleaseStatus(s);
  return false;
}

// Exercises every entry used here, except Run, on values whose answers are known: a status
// made and read back, the CPU memory info's name and id, a float tensor over a local buffer
// read back for its data pointer, dtype and shape. Empty string when all agree, else what did
// not.
std::string CheckTable(const Api& api) {
  Status s = api.MakeStatus(kOrtInvalidArgument, "tftrt check");
  if (s == nullptr) return "CreateStatus returned no status";
  bool status_ok = api.ErrorCode(s) == kOrtInvalidArgument &&
                   std::strcmp(api.ErrorMessage(s), "tftrt check") == 0;
  api.ReleaseStatus(s);
  if (!status_ok) return "a status does not read back as made";

  void* info = nullptr;
  if (!Ok(api, api.CpuMemoryInfo(&info)) || info == nullptr) return "no CPU memory info";
  const char* name = nullptr;
  int id = -1;
  bool info_ok = Ok(api, api.MemoryInfoName(info, &name)) && name != nullptr &&
                 std::strcmp(name, "Cpu") == 0 && Ok(api, api.MemoryInfoId(info, &id)) && id == 0;
  if (!info_ok) {
    api.ReleaseMemoryInfo(info);
    return "the CPU memory info does not read back as made";
  }

  float data[6] = {0, 1, 2, 3, 4, 5};
  const int64_t dims[2] = {2, 3};
  void* value = nullptr;
  std::string why;
  if (!Ok(api, api.CreateTensor(info, data, sizeof data, dims, 2, kOnnxFloat, &value)) ||
      value == nullptr) {
    why = "no tensor over a buffer";
  } else {
    int is_tensor = 0;
    void* p = nullptr;
    void* shape = nullptr;
    int type = 0;
    size_t rank = 0;
    int64_t got[2] = {0, 0};
    if (!Ok(api, api.IsTensor(value, &is_tensor)) || is_tensor != 1) {
      why = "a tensor is not a tensor";
    } else if (!Ok(api, api.MutableData(value, &p)) || p != data) {
      why = "a tensor's data is not its buffer";
    } else if (!Ok(api, api.TypeAndShape(value, &shape)) || shape == nullptr) {
      why = "a tensor has no type and shape";
    } else {
      if (!Ok(api, api.ElementType(shape, &type)) || type != kOnnxFloat ||
          !Ok(api, api.DimensionsCount(shape, &rank)) || rank != 2 ||
          !Ok(api, api.Dimensions(shape, got, 2)) || got[0] != 2 || got[1] != 3) {
        why = "a tensor's type and shape do not read back as made";
      }
      api.ReleaseTypeAndShape(shape);
    }
    api.ReleaseValue(value);
  }
  api.ReleaseMemoryInfo(info);
  return why;
}

}  // namespace

struct OrtRunner {
  Api api;
  void* session = nullptr;
  void* memory_info = nullptr;  // CPU, for TensorFlow's buffers
  std::string node;             // for messages
  std::vector<std::string> input_names, output_names;
  std::vector<const char*> input_cnames, output_cnames;
  std::vector<int> input_types, output_types;  // ONNX element types
  std::vector<TF_DataType> output_tf_types;
  std::vector<bool> output_rank_known;
  std::vector<std::vector<int64_t>> output_shapes;  // declared: -1 for an unknown dimension
  bool static_outputs = false;  // every output shape fully known: written in place
  std::shared_mutex mu;         // runs share it; close takes it alone
  bool closed = false;

  ~OrtRunner() {
    if (memory_info != nullptr) api.ReleaseMemoryInfo(memory_info);
  }
};

namespace {

std::mutex g_runners_mu;
std::unordered_map<long long, std::shared_ptr<OrtRunner>> g_runners;
std::atomic<long long> g_calls{0};

// The checked table: checked once per distinct table (one per process in practice).
std::mutex g_checked_mu;
std::unordered_map<const void*, std::string> g_checked;

std::string Checked(const Api& api) {
  std::lock_guard<std::mutex> lock(g_checked_mu);
  auto it = g_checked.find(api.table);
  if (it != g_checked.end()) return it->second;
  std::string why = CheckTable(api);
  g_checked.emplace(api.table, why);
  return why;
}

// "engine node 'X': ONNX Runtime failed: <what it means> (<its own words>)."
std::string Failure(const OrtRunner& r, Status s) {
  int code = r.api.ErrorCode(s);
  const char* text = r.api.ErrorMessage(s);
  const char* meaning = code == kOrtInvalidArgument ? "the inputs do not match what it expects (dtype or shape)"
                        : code == kOrtNotImplemented ? "it uses an operator or type ONNX Runtime does not implement"
                                                     : "ONNX Runtime could not execute it";
  std::string m = "engine node '" + r.node + "': ONNX Runtime failed: " + meaning;
  if (text != nullptr && *text != '\0') m += std::string(" (") + text + ")";
  return m + ".";
}

std::string DescribeShape(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += dims[i] < 0 ? "?" : std::to_string(dims[i]);
  }
  return s + "]";
}

// Output j of the call, allocated in TensorFlow with these dims; null, with the call failed,
// when TensorFlow cannot allocate it.
TF_Tensor* AllocateOutput(const OrtRunner& r, Call* call, size_t j, const int64_t* dims, size_t rank,
                          TF_Status* status) {
  size_t bytes = TF_DataTypeSize(r.output_tf_types[j]);
  for (size_t d = 0; d < rank; ++d) bytes *= static_cast<size_t>(dims[d]);
  TF_Tensor* t = TF_AllocateOutput(call->ctx, static_cast<int>(j), r.output_tf_types[j], dims,
                                   static_cast<int>(rank), bytes, status);
  if (TF_GetCode(status) != TF_OK || t == nullptr) {
    call->Fail(TF_RESOURCE_EXHAUSTED, "engine node '" + r.node + "': output " + std::to_string(j) +
                                          ": allocation failed: " + TF_Message(status));
    if (t != nullptr) TF_DeleteTensor(t);
    return nullptr;
  }
  call->outputs[j] = t;
  return t;
}

}  // namespace

std::shared_ptr<OrtRunner> FindOrtRunner(long long handle) {
  std::lock_guard<std::mutex> lock(g_runners_mu);
  auto it = g_runners.find(handle);
  return it == g_runners.end() ? nullptr : it->second;
}

bool RunOrt(OrtRunner* r, Call* call) {
  std::shared_lock<std::shared_mutex> lock(r->mu);
  const size_t n = r->input_names.size();
  const size_t m = r->output_names.size();
  if (r->closed || call->inputs.size() != n || call->outputs.size() != m) return false;
  for (TF_Tensor* t : call->inputs) {
    // An empty tensor has no buffer to point ONNX Runtime at; Java handles that case.
    if (TF_TensorByteSize(t) == 0) return false;
  }
  g_calls.fetch_add(1, std::memory_order_relaxed);
  const Api& api = r->api;
  std::vector<void*> inputs(n, nullptr);
  std::vector<void*> outputs(m, nullptr);
  std::vector<int64_t> dims;
  TF_Status* tf_status = TF_NewStatus();
  auto release = [&]() {
    for (void* v : inputs) if (v != nullptr) api.ReleaseValue(v);
    for (void* v : outputs) if (v != nullptr) api.ReleaseValue(v);
    TF_DeleteStatus(tf_status);
  };
  for (size_t i = 0; i < n; ++i) {
    TF_Tensor* t = call->inputs[i];
    dims.resize(static_cast<size_t>(TF_NumDims(t)));
    for (size_t d = 0; d < dims.size(); ++d) dims[d] = TF_Dim(t, static_cast<int>(d));
    Status s = api.CreateTensor(r->memory_info, TF_TensorData(t), TF_TensorByteSize(t),
                                dims.data(), dims.size(), r->input_types[i], &inputs[i]);
    if (s != nullptr) {
      call->Fail(TF_FAILED_PRECONDITION, Failure(*r, s));
      api.ReleaseStatus(s);
      release();
      return true;
    }
  }
  if (r->static_outputs) {
    // Outputs allocated in TensorFlow first, so ONNX Runtime writes where TensorFlow reads.
    for (size_t j = 0; j < m; ++j) {
      const std::vector<int64_t>& shape = r->output_shapes[j];
      TF_Tensor* t = AllocateOutput(*r, call, j, shape.data(), shape.size(), tf_status);
      if (t == nullptr) {
        release();
        return true;
      }
      Status s = api.CreateTensor(r->memory_info, TF_TensorData(t), TF_TensorByteSize(t), shape.data(),
                                  shape.size(), r->output_types[j], &outputs[j]);
      if (s != nullptr) {
        call->Fail(TF_FAILED_PRECONDITION, Failure(*r, s));
        api.ReleaseStatus(s);
        release();
        return true;
      }
    }
  }
  Status s = api.Run(r->session, r->input_cnames.data(), inputs.data(), n,
                     r->output_cnames.data(), m, outputs.data());
  if (s != nullptr) {
    call->Fail(TF_FAILED_PRECONDITION, Failure(*r, s));
    api.ReleaseStatus(s);
    release();
    return true;
  }
  if (!r->static_outputs) {
    // ONNX Runtime allocated the outputs (a shape known only now): one copy into TensorFlow.
    for (size_t j = 0; j < m && call->code == TF_OK; ++j) {
      void* info = nullptr;
      size_t rank = 0;
      void* data = nullptr;
      Status e = api.TypeAndShape(outputs[j], &info);
      if (e == nullptr) e = api.DimensionsCount(info, &rank);
      if (e == nullptr) {
        dims.assign(rank, 0);
        e = api.Dimensions(info, dims.data(), rank);
      }
      if (info != nullptr) api.ReleaseTypeAndShape(info);
      if (e == nullptr) e = api.MutableData(outputs[j], &data);
      if (e != nullptr) {
        call->Fail(TF_FAILED_PRECONDITION, Failure(*r, e));
        api.ReleaseStatus(e);
        break;
      }
      // The same check EngineCall.allocateOutput makes: the backend's fault, hence INTERNAL.
      bool fits = !r->output_rank_known[j] || r->output_shapes[j].size() == rank;
      for (size_t d = 0; fits && r->output_rank_known[j] && d < rank; ++d) {
        int64_t want = r->output_shapes[j][d];
        fits = want < 0 || want == dims[d];
      }
      if (!fits) {
        call->Fail(TF_INTERNAL, "the backend gave output " + std::to_string(j) +
                                    " of engine node '" + r->node + "' the shape " +
                                    DescribeShape(dims) + ", but the node declares " +
                                    DescribeShape(r->output_shapes[j]));
        break;
      }
      TF_Tensor* t = AllocateOutput(*r, call, j, dims.data(), rank, tf_status);
      if (t == nullptr) break;
      if (TF_TensorByteSize(t) > 0) std::memcpy(TF_TensorData(t), data, TF_TensorByteSize(t));
    }
  }
  release();
  return true;
}

}  // namespace tftrt

namespace {

std::vector<std::string> Strings(JNIEnv* env, jobjectArray a) {
  std::vector<std::string> out;
  const jsize n = env->GetArrayLength(a);
  for (jsize i = 0; i < n; ++i) {
    auto s = static_cast<jstring>(env->GetObjectArrayElement(a, i));
    const char* c = env->GetStringUTFChars(s, nullptr);
    out.emplace_back(c == nullptr ? "" : c);
    if (c != nullptr) env->ReleaseStringUTFChars(s, c);
    env->DeleteLocalRef(s);
  }
  return out;
}

std::vector<int> Ints(JNIEnv* env, jintArray a) {
  std::vector<int> out(static_cast<size_t>(env->GetArrayLength(a)));
  env->GetIntArrayRegion(a, 0, static_cast<jsize>(out.size()), reinterpret_cast<jint*>(out.data()));
  return out;
}

void Throw(JNIEnv* env, const std::string& message) {
  jclass c = env->FindClass("java/lang/IllegalStateException");
  if (c != nullptr) env->ThrowNew(c, message.c_str());
}

}  // namespace

extern "C" {

// static native long nativeCreate(String node, long api, long session, String[] inputNames,
//     int[] inputTypes, String[] outputNames, int[] outputTypes, int[] outputTfTypes,
//     long[][] outputShapes, boolean staticOutputs): a runner's handle; throws
//     IllegalStateException saying why when ONNX Runtime's table does not check out.
JNIEXPORT jlong JNICALL Java_dev_tftrt_runtime_ort_OrtNativeRunner_nativeCreate(
    JNIEnv* env, jclass, jstring node, jlong api, jlong session, jobjectArray input_names,
    jintArray input_types, jobjectArray output_names, jintArray output_types,
    jintArray output_tf_types, jobjectArray output_shapes, jboolean static_outputs) {
  using namespace tftrt;
  if (api == 0 || session == 0) {
    Throw(env, "no ONNX Runtime API table or session");
    return 0;
  }
  auto r = std::make_shared<OrtRunner>();
  r->api.table = reinterpret_cast<const Fn*>(api);
  std::string why = Checked(r->api);
  if (!why.empty()) {
    Throw(env, "ONNX Runtime's C API table does not behave as expected: " + why);
    return 0;
  }
  if (!Ok(r->api, r->api.CpuMemoryInfo(&r->memory_info))) {
    r->memory_info = nullptr;
    Throw(env, "ONNX Runtime gave no CPU memory info");
    return 0;
  }
  r->session = reinterpret_cast<void*>(session);
  const char* n = env->GetStringUTFChars(node, nullptr);
  r->node = n == nullptr ? "" : n;
  if (n != nullptr) env->ReleaseStringUTFChars(node, n);
  r->input_names = Strings(env, input_names);
  r->output_names = Strings(env, output_names);
  r->input_types = Ints(env, input_types);
  r->output_types = Ints(env, output_types);
  for (int t : Ints(env, output_tf_types)) r->output_tf_types.push_back(static_cast<TF_DataType>(t));
  const jsize m = env->GetArrayLength(output_shapes);
  for (jsize j = 0; j < m; ++j) {
    auto a = static_cast<jlongArray>(env->GetObjectArrayElement(output_shapes, j));
    std::vector<int64_t> dims;
    if (a != nullptr) {
      dims.resize(static_cast<size_t>(env->GetArrayLength(a)));
      env->GetLongArrayRegion(a, 0, static_cast<jsize>(dims.size()),
                              reinterpret_cast<jlong*>(dims.data()));
      env->DeleteLocalRef(a);
    }
    r->output_rank_known.push_back(a != nullptr);
    r->output_shapes.push_back(std::move(dims));
  }
  r->static_outputs = static_outputs == JNI_TRUE;
  if (r->input_types.size() != r->input_names.size() ||
      r->output_types.size() != r->output_names.size() ||
      r->output_tf_types.size() != r->output_names.size() ||
      r->output_shapes.size() != r->output_names.size()) {
    Throw(env, "the runner's names, types and shapes do not agree in number");
    return 0;
  }
  for (const std::string& s : r->input_names) r->input_cnames.push_back(s.c_str());
  for (const std::string& s : r->output_names) r->output_cnames.push_back(s.c_str());
  const long long handle = reinterpret_cast<long long>(r.get());
  std::lock_guard<std::mutex> lock(g_runners_mu);
  g_runners[handle] = std::move(r);
  return static_cast<jlong>(handle);
}

// static native void nativeClose(long handle): no call runs through the runner once this
// returns (it waits for those in flight); kernels that still hold it go through Java.
JNIEXPORT void JNICALL Java_dev_tftrt_runtime_ort_OrtNativeRunner_nativeClose(JNIEnv*, jclass,
                                                                              jlong handle) {
  using namespace tftrt;
  std::shared_ptr<OrtRunner> r;
  {
    std::lock_guard<std::mutex> lock(g_runners_mu);
    auto it = g_runners.find(static_cast<long long>(handle));
    if (it == g_runners.end()) return;
    r = std::move(it->second);
    g_runners.erase(it);
  }
  std::unique_lock<std::shared_mutex> lock(r->mu);
  r->closed = true;
}

// static native long nativeCalls(): engine calls run natively so far in this process.
JNIEXPORT jlong JNICALL Java_dev_tftrt_runtime_ort_OrtNativeRunner_nativeCalls(JNIEnv*, jclass) {
  return static_cast<jlong>(tftrt::g_calls.load(std::memory_order_relaxed));
}

}  // extern "C"
