/** The colours of the 3D view (scene.ts draws them, view3d.ts names them in its legend). */

/** The model's colour (the yellow CadQuery users know, as the notebook's 3D viewer). */
export const MODEL_COLOR = '#e8b024';
/** The agent's colour (the notebook viewer's `AGENT_COLOR`, CSS deeppink). */
export const AGENT_COLOR = '#ff1493';
/** The colour of what the user picked. */
export const USER_COLOR = '#1e88e5';
