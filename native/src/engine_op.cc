// The TftrtEngine op: one node that stands for a whole converted segment of a TensorFlow graph.
//
// It is registered through TensorFlow's C op and kernel API when TensorFlow loads this library
// (TensorFlow.loadLibrary -> TF_LoadLibrary -> dlopen runs the static initializer at the end of
// this file). Its CPU kernel does no math itself: it hands its inputs to a Java backend (see
// java_bridge.cc and dev.tftrt.runtime.engine.EngineBridge), which allocates the outputs through
// the kernel context and fills them in place.
//
// Attributes (the Java side, dev.tftrt.runtime.engine.EngineNode, reads and writes them):
//   Tin, Tout   input and output dtypes
//   shapes      one shape per output: known dims, -1 unknown, or unknown rank (what the Java
//               side checks outputs against; the shape function itself declares them unknown)
//   onnx        the segment as an ONNX model (bytes); empty in a converted folder of format 2,
//               whose payloads are files the Java side reads
//   engine      a serialized TensorRT engine, "" until one is built
//   cache_key   what the engine was built for, "" when there is none
//   precision   fp32, fp16 or int8
//   backend     which backend the converter chose: auto, tensorrt, onnxruntime, tensorflow
//   segment     the original segment as a GraphDef (bytes), for the tensorflow fallback (empty
//               in format 2, as onnx)
//   key         the name under which the Java backend is registered, "" for the node's name
//   version     the attribute layout's version (1)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "engine.h"
#include "ort_runner.h"

namespace tftrt {
namespace {

constexpr const char* kOpName = "TftrtEngine";

// ---- shape function --------------------------------------------------------------------------
//
// TensorFlow's C shape-inference API can build shapes but cannot read a list(shape) attribute
// (its only attribute getter is for a single dtype), and calling TensorFlow's C++ internals
// would mean mangled symbols and a hand-emulated Status ABI. So the op says what the public API
// allows: every output's shape is unknown. The splicer (dev.tftrt.splice.Splicer) reads each
// output of known rank through an EnsureShape node holding the `shapes` attribute, which gives
// TensorFlow's shape inference the static shape downstream and checks it at run time.
void ShapeFn(TF_ShapeInferenceContext* ctx, TF_Status* status) {
  TF_ShapeInferenceContextSetUnknownShape(ctx, status);
}

// ---- kernel ----------------------------------------------------------------------------------

void Fail(TF_OpKernelConstruction* ctx, TF_Code code, const std::string& message) {
  TF_Status* status = TF_NewStatus();
  TF_SetStatus(status, code, message.c_str());
  TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
}

void* Create(TF_OpKernelConstruction* ctx) {
  auto* kernel = new Kernel();
  TF_StringView name = TF_OpKernelConstruction_GetName(ctx);
  kernel->name.assign(name.data, name.len);
  const std::string where = std::string("engine node '") + kernel->name + "': ";

  TF_Status* status = TF_NewStatus();
  int32_t count = 0, total = 0;
  TF_OpKernelConstruction_GetAttrSize(ctx, "Tout", &count, &total, status);
  if (TF_GetCode(status) == TF_OK && count > 0) {
    kernel->output_types.resize(static_cast<size_t>(count));
    TF_OpKernelConstruction_GetAttrTypeList(ctx, "Tout", kernel->output_types.data(), count,
                                            status);
  }
  if (TF_GetCode(status) != TF_OK) {
    Fail(ctx, TF_INVALID_ARGUMENT, where + "attr 'Tout': " + TF_Message(status));
    TF_DeleteStatus(status);
    return kernel;  // TensorFlow deletes a kernel whose construction failed (Delete below)
  }
  for (TF_DataType t : kernel->output_types) {
    if (TF_DataTypeSize(t) == 0) {
      Fail(ctx, TF_INVALID_ARGUMENT,
           where + "output dtype " + std::to_string(static_cast<int>(t)) +
               " has no fixed element size; engine outputs must be numeric or bool");
      TF_DeleteStatus(status);
      return kernel;
    }
  }

  TF_Buffer* node_def = TF_OpKernelConstruction_GetNodeDef(ctx, status);
  if (TF_GetCode(status) != TF_OK || node_def == nullptr) {
    Fail(ctx, TF_INTERNAL, where + "cannot read its NodeDef: " + TF_Message(status));
    if (node_def != nullptr) TF_DeleteBuffer(node_def);
    TF_DeleteStatus(status);
    return kernel;
  }
  TF_DeleteStatus(status);

  Call call;
  call.kernel = kernel;
  int slot = BindKernel(node_def->data, node_def->length, &call);
  TF_DeleteBuffer(node_def);
  if (call.code != TF_OK) {
    Fail(ctx, call.code, call.message);
  } else {
    kernel->slot = slot;
  }
  return kernel;
}

// The backend's native runner, if it has one: asked of Java once per kernel, then kept.
OrtRunner* RunnerOf(const Kernel* kernel) {
  int state = kernel->runner_state.load(std::memory_order_acquire);
  if (state == 2) return kernel->runner.get();
  if (state == 1) return nullptr;
  std::lock_guard<std::mutex> lock(kernel->runner_mu);
  state = kernel->runner_state.load(std::memory_order_relaxed);
  if (state != 0) return state == 2 ? kernel->runner.get() : nullptr;
  long long handle = NativeRunnerHandle(kernel);
  if (handle < 0) return nullptr;  // asked again on the next call
  std::shared_ptr<OrtRunner> runner = handle > 0 ? FindOrtRunner(handle) : nullptr;
  kernel->runner = runner;
  kernel->runner_state.store(runner != nullptr ? 2 : 1, std::memory_order_release);
  return runner.get();
}

void Compute(void* p, TF_OpKernelContext* ctx) {
  const auto* kernel = static_cast<const Kernel*>(p);
  Call call;
  call.kernel = kernel;
  call.ctx = ctx;
  TF_Status* status = TF_NewStatus();

  const int num_inputs = TF_NumInputs(ctx);
  call.inputs.assign(static_cast<size_t>(num_inputs), nullptr);
  for (int i = 0; i < num_inputs && call.code == TF_OK; ++i) {
    TF_GetInput(ctx, i, &call.inputs[i], status);
    if (TF_GetCode(status) != TF_OK) {
      call.Fail(TF_GetCode(status), "engine node '" + kernel->name + "': input " +
                                        std::to_string(i) + ": " + TF_Message(status));
    }
  }
  call.outputs.assign(kernel->output_types.size(), nullptr);

  if (call.code == TF_OK) {
    // The native runner, where the backend has one, runs the call with no Java at all; it
    // declines (returns false) the calls it cannot take, and those go through Java.
    OrtRunner* runner = RunnerOf(kernel);
    if (runner == nullptr || !RunOrt(runner, &call)) InvokeKernel(&call);
  }
  if (call.code == TF_OK) {
    for (size_t i = 0; i < call.outputs.size(); ++i) {
      if (call.outputs[i] == nullptr) {
        call.Fail(TF_INTERNAL, "engine node '" + kernel->name + "': the backend set no value for output " +
                                   std::to_string(i));
        break;
      }
    }
  }
  if (call.code != TF_OK) {
    TF_SetStatus(status, call.code, call.message.c_str());
    TF_OpKernelContext_Failure(ctx, status);
  }
  for (TF_Tensor* t : call.inputs) {
    if (t != nullptr) TF_DeleteTensor(t);
  }
  // The context holds its own reference to each output; these are only the wrappers.
  for (TF_Tensor* t : call.outputs) {
    if (t != nullptr) TF_DeleteTensor(t);
  }
  TF_DeleteStatus(status);
}

void Delete(void* p) {
  auto* kernel = static_cast<Kernel*>(p);
  if (kernel->slot >= 0) ReleaseKernel(kernel->slot);
  delete kernel;
}

// ---- registration ----------------------------------------------------------------------------

bool Register() {
  TF_Status* status = TF_NewStatus();
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(kOpName);
  TF_OpDefinitionBuilderAddInput(op, "in: Tin");
  TF_OpDefinitionBuilderAddOutput(op, "out: Tout");
  TF_OpDefinitionBuilderAddAttr(op, "Tin: list(type) >= 0");
  TF_OpDefinitionBuilderAddAttr(op, "Tout: list(type) >= 1");
  TF_OpDefinitionBuilderAddAttr(op, "shapes: list(shape) >= 1");
  TF_OpDefinitionBuilderAddAttr(op, "onnx: string = ''");
  TF_OpDefinitionBuilderAddAttr(op, "engine: string = ''");
  TF_OpDefinitionBuilderAddAttr(op, "cache_key: string = ''");
  TF_OpDefinitionBuilderAddAttr(op, "precision: string = 'fp32'");
  TF_OpDefinitionBuilderAddAttr(op, "backend: string = 'auto'");
  TF_OpDefinitionBuilderAddAttr(op, "segment: string = ''");
  TF_OpDefinitionBuilderAddAttr(op, "key: string = ''");
  TF_OpDefinitionBuilderAddAttr(op, "version: int = 1");
  // Stateful: grappler must neither constant-fold an engine (that would run a Java backend
  // while the session is being optimized) nor merge two engine nodes whose attributes happen
  // to be equal (CSE) when their registered backends differ.
  TF_OpDefinitionBuilderSetIsStateful(op, true);
  TF_OpDefinitionBuilderSetShapeInferenceFunction(op, &ShapeFn);
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK) {
    std::fprintf(stderr, "tftrt: registering op %s failed: %s\n", kOpName, TF_Message(status));
    TF_DeleteStatus(status);
    return false;
  }

  TF_KernelBuilder* kb = TF_NewKernelBuilder(kOpName, "CPU", &Create, &Compute, &Delete);
  TF_RegisterKernelBuilder("TftrtEngineCpu", kb, status);
  bool ok = TF_GetCode(status) == TF_OK;
  if (!ok) {
    std::fprintf(stderr, "tftrt: registering the CPU kernel of %s failed: %s\n", kOpName,
                 TF_Message(status));
  }
  TF_DeleteStatus(status);
  return ok;
}

// Runs when TensorFlow dlopens this library, which is when TF_LoadLibrary records the ops a
// library registers.
[[maybe_unused]] const bool kRegistered = Register();

}  // namespace
}  // namespace tftrt
