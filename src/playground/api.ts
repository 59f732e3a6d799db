/**
 * The playground's JSON API, independent of HTTP: the function catalog, call plans (CallSpecs with teaching
 * notes) and recorded calls on long-lived machines. `server.ts` maps routes to these functions; `lessons.ts` and
 * `export.ts` use them to precompute lesson recordings.
 *
 * This file is the API's entry; each concept lives in its own file:
 *   request.ts        a request body validated and its prototype parsed (PlaygroundError for a bad one)
 *   catalog-query.ts  GET /api/info, /api/catalog
 *   explanations.ts   the teaching notes of a CallSpec
 *   plan.ts           POST /api/plan
 *   machines.ts       the machine profiles, booted lazily, one call at a time, evicted and recycled
 *   call.ts           POST /api/call: a recorded call, its errors
 *   response.ts       a recorded call's trace, labels and globals in the answer
 *   upload-store.ts   the uploaded objects this thread knows
 *   uploads.ts        POST /api/upload, and dropping an upload with its machines
 */
export { CallFailedError, call, errorMessage, MAX_TRACE_STEPS, type CallHooks, type CallRequest } from './call.ts';
export { catalogQuery, info, paramKind, POPULAR, type ParamKind } from './catalog-query.ts';
export { annotate, argKey, EXPLANATIONS, returnKey } from './explanations.ts';
export {
  ARCHES, closeMachines, LIBRARIES, MAX_BOOTED_MACHINES, PLAYGROUND_MEMORY_LIMIT, PLAYGROUND_OUTPUT_LIMIT, setBootCache, TEST_LIBRARIES,
  type Profile,
} from './machines.ts';
export { plan, type PlanRequest } from './plan.ts';
export { PlaygroundError } from './request.ts';
export { MAX_TRACE_BYTES, TraceTooLargeError } from './response.ts';
export { adoptUpload, type Upload, uploadEntry } from './upload-store.ts';
export { forgetUpload, MAX_UPLOAD_BYTES, onUploadForgotten, upload } from './uploads.ts';
