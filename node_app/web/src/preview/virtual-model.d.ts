declare module 'virtual:preview-model' {
  const model: import('./preview-model').PreviewModel;
  export default model;
}
