// The parts of ECharts the KPI page draws with, and nothing else (tree-shaken). Only the KPI page imports this
// module, through a dynamic import, so ECharts is its own chunk and never part of the console's first download.
import * as echarts from 'echarts/core'
import { BarChart, LineChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export default echarts
