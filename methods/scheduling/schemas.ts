// The scheduling fields' wire schemas live with the other wire shapes in schemas/scheduling.ts
// (schemas/ imports nothing of methods/); the scheduling layer reads them from here.
export * from '../../schemas/scheduling.js';
