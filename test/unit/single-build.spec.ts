// The dual-package hazard (the ES module and the CommonJS build in one process) stops the process when the second
// build loads. The real case (both builds of the packed package in one process) is compat/dual-load.
import { checkSingleBuild, moduleFile } from '../../lib/single-build.js';

const esm = { format: 'ES module', where: '/app/node_modules/nest-identity-cors/dist/single-build.js' } as const;
const cjs = { format: 'CommonJS', where: '/app/node_modules/nest-identity-cors/dist/cjs/single-build.js' } as const;

describe('checkSingleBuild', () => {
  it('lets the same build load again (Jest module registries, several entry points)', () => {
    const registry = {};
    checkSingleBuild(registry, esm);
    expect(() => checkSingleBuild(registry, esm)).not.toThrow();
  });

  it('stops the CommonJS build loading after the ES module build, naming both and what to do', () => {
    const registry = {};
    checkSingleBuild(registry, esm);
    expect(() => checkSingleBuild(registry, cjs)).toThrow(
      /loaded twice in one process: as an ES module \(\/app\/node_modules\/nest-identity-cors\/dist\/single-build\.js\) and as CommonJS \(\/app\/node_modules\/nest-identity-cors\/dist\/cjs\/single-build\.js\), ES module first.*Load it one way only/,
    );
  });

  it('stops the ES module build loading after the CommonJS build', () => {
    const registry = {};
    checkSingleBuild(registry, cjs);
    expect(() => checkSingleBuild(registry, esm)).toThrow(/loaded twice in one process.*CommonJS first/);
  });
});

describe('moduleFile', () => {
  it('names the ES module build by the file of its stack frame', () => {
    const stack = 'Error\n    at file:///app/node_modules/nest-identity-cors/dist/single-build.js:19:120\n    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)';
    expect(moduleFile(stack)).toBe('/app/node_modules/nest-identity-cors/dist/single-build.js');
  });

  it('falls back to the folder when the stack names no file', () => {
    expect(moduleFile(undefined)).toBe('its dist/ folder');
    expect(moduleFile('Error\n    at <anonymous>')).toBe('its dist/ folder');
  });
});
