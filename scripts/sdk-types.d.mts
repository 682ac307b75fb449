export declare const SDK_TYPES_FILE: string;
export declare function renderSdkTypes(document: unknown): Promise<string>;
