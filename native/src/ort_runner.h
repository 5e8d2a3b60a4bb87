// The native fast path of the onnxruntime backend: an engine kernel that runs its ONNX Runtime
// session straight through ONNX Runtime's C API, with no call into Java (see ort_runner.cc).
#ifndef TFTRT_ORT_RUNNER_H_
#define TFTRT_ORT_RUNNER_H_

#include <memory>

#include "engine.h"

namespace tftrt {

struct OrtRunner;

// The runner registered under `handle` (what OrtNativeRunner.nativeCreate returned), or null
// when there is none (closed, or never made).
std::shared_ptr<OrtRunner> FindOrtRunner(long long handle);

// Runs call->inputs through the runner's session into call->outputs. Returns false, having
// touched nothing, when the runner cannot take this call (closed, an empty input): the caller
// then goes through Java as before. Returns true otherwise, with call->code set on failure.
bool RunOrt(OrtRunner* runner, Call* call);

}  // namespace tftrt

#endif  // TFTRT_ORT_RUNNER_H_
