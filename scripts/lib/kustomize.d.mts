/** The rendered YAML of deploy/kubernetes/<folder> (`kustomize build`). */
export function kustomizeBuild(folder: string): string;
